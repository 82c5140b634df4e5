// `logseal index-key create -c FILE`: a new index key for searchable fields; prints its CiphertextBlob for seal.indexKey.
import { loadConfig } from '../../config/index.js';
import { createIndexKey } from '../../keys/index.js';
import { UsageError } from '../exit.js';
import { kmsClientFor } from './kms.js';

export async function indexKeyCommand(action: string, flags: { config: string; logstore?: string }): Promise<void> {
  if (action !== 'create') throw new UsageError(`index-key: unknown action "${action}" (expected create)`);
  const config = await loadConfig(flags.config);
  const logstore = flags.logstore ?? config.sls.logstore;
  const blob = await createIndexKey(await kmsClientFor(config), config.kms.cmk, config.sls.project, logstore);
  process.stdout.write(`${blob}\n`);
}
