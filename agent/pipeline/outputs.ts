// Where each input's logs go: the distinct (Logstore, CMK) pairs the inputs name, each with its own data keys.
import type { Config } from '../config/index.js';
import { DataKeyCache, encryptionContext, type DataKeyCacheOptions } from '../keys/index.js';

export interface OutputTarget {
  logstore: string;
  cmk: string;
}

export interface Output extends OutputTarget {
  /** Data keys are bound to (project, Logstore) by their EncryptionContext and issued by one CMK: one cache each. */
  keys: DataKeyCache;
}

/** The outputs in order of first use by an input, and for each input (by position) the index of its output. */
export function planOutputs(config: Config): { targets: OutputTarget[]; outputOfInput: number[] } {
  const targets: OutputTarget[] = [];
  const outputOfInput = config.inputs.map((input) => {
    const logstore = input.logstore ?? config.sls.logstore;
    const cmk = input.cmk ?? config.kms.cmk;
    let i = targets.findIndex((t) => t.logstore === logstore && t.cmk === cmk);
    if (i < 0) i = targets.push({ logstore, cmk }) - 1;
    return i;
  });
  return { targets, outputOfInput };
}

/** Every Logstore the agent writes to, each once. */
export function logstoresOf(targets: OutputTarget[]): string[] {
  return [...new Set(targets.map((t) => t.logstore))];
}

export function openOutputs(config: Config, targets: OutputTarget[], kms: DataKeyCacheOptions['kms']): Output[] {
  return targets.map((t) => ({
    ...t,
    keys: new DataKeyCache({
      kms,
      cmk: t.cmk,
      algorithm: config.seal.algorithm,
      context: encryptionContext(config.sls.project, t.logstore),
      rotate: { maxAgeMs: config.seal.rotate.maxAge, maxRecords: config.seal.rotate.maxRecords, maxBytes: config.seal.rotate.maxBytes },
    }),
  }));
}
