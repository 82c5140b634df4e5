// The README's config reference is generated from the schema; this keeps the two from drifting apart.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configReference } from '../agent/config/index.js';
import { repoRoot } from './helpers/e2e.js';

describe('README', () => {
  it('holds the config reference exactly as the schema renders it', async () => {
    const readme = await readFile(`${repoRoot}/README.md`, 'utf8');
    const m = /<!-- config-reference:start -->\n([\s\S]*?)<!-- config-reference:end -->/.exec(readme);
    expect(m, 'README.md has the config-reference markers').not.toBeNull();
    expect(m![1]).toBe(configReference());
  });

  it('shows the two commands that set everything up', async () => {
    const readme = await readFile(`${repoRoot}/README.md`, 'utf8');
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
