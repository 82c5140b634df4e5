// `logseal index-key create -c FILE`: a new index key for searchable fields; prints its CiphertextBlob for seal.indexKey.
import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig, parseConfig, type Config } from '../../config/index.js';
import { createIndexKey } from '../../keys/index.js';
import { UsageError } from '../exit.js';
import { kmsClientFor } from './kms.js';

export async function indexKeyCommand(action: string, flags: { config: string; logstore?: string }): Promise<void> {
  if (action !== 'create') throw new UsageError(`index-key: unknown action "${action}" (expected create)`);
  const config = await configWithoutIndexKey(flags.config);
  const logstore = flags.logstore ?? config.sls.logstore;
  const blob = await createIndexKey(await kmsClientFor(config), config.kms.cmk, config.sls.project, logstore);
  process.stdout.write(`${blob}\n`);
}

/** The config, also when it lists seal.index but has no seal.indexKey yet: that key is what this command makes. */
async function configWithoutIndexKey(file: string): Promise<Config> {
  try {
    return await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError) || err.keyPath !== 'seal.indexKey') throw err;
    const doc = parse(await readFile(file, 'utf8')) as { seal: Record<string, unknown> };
    doc.seal.indexKey = 'to be created';
    return parseConfig(stringify(doc), file);
  }
}
