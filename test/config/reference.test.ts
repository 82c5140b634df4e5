// The config reference table rendered from the schema.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configReference } from '../../agent/config/index.js';

function keysOf(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => keysOf(item, `${prefix}[]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    return [key, ...keysOf(v, key)];
  });
}

describe('configReference', () => {
  const table = configReference();
  const rows = table.trimEnd().split('\n').slice(2);
  const keys = rows.map((r) => /^\| `([^`]+)` \|/.exec(r)?.[1]);

  it('is a Markdown table with one well-formed row per key', () => {
    expect(table.split('\n')[0]).toBe('| Key | Type | Default | Description |');
    for (const row of rows) {
      expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(6);
    }
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).not.toContain(undefined);
  });

  it('is deterministic', () => {
    expect(configReference()).toBe(table);
  });

  it('documents defaults and units as users write them', () => {
    expect(table).toContain('| `sls.timeout` | duration | `30s` |');
    expect(table).toContain('| `spool.maxBytes` | size | `1GiB` |');
    expect(table).toContain('| `sls.compress` | `auto` \\| `lz4` \\| `deflate` \\| `zstd` \\| `none` | `auto` |');
    expect(table).toContain('| `seal.threads` | integer | CPU cores |');
    expect(table).toContain('| `sls.endpoint` | URL or host | **required** |');
    expect(table).toContain('| `sls.accessKeyId` | string |  |');
  });

  it('covers every key used in the example config', async () => {
    const { parse } = await import('yaml');
    const example = parse(await readFile(new URL('../../config/example.yaml', import.meta.url), 'utf8'));
    for (const key of keysOf(example)) {
      // Map entries (fields/tags) and parser variants are values, not keys of the schema.
      if (/\.(fields|tags)\./.test(key) || /\.parser\./.test(key)) continue;
      expect(keys, key).toContain(key);
    }
  });
});
