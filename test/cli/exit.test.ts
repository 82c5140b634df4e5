// Exit codes of errors the user acts on by changing the config.
import { describe, expect, it } from 'vitest';
import { EXIT, describeError } from '../../agent/cli/exit.js';
import { BackendUnavailableError } from '../../agent/seal/index.js';

describe('describeError', () => {
  it('maps a seal.backend this build lacks to the config exit code, in one line', () => {
    const err = new BackendUnavailableError("seal.backend: 'addon' is not available for SM4_128_GCM (the native addon is not built); use auto, native or js");
    expect(describeError(err)).toEqual({ message: err.message, code: EXIT.config });
  });
});
