// Creates the Logstores the agent writes to at start-up, when sls.createLogstore asks for it.
import type { Config } from '../config/index.js';
// From its module, not the search barrel: that would load the search and the decrypt engine into the agent.
import { ensureTokenIndex } from '../search/sls-index.js';
import { SlsError, type SlsClient } from '../ship/index.js';
import type { Logger } from '../telemetry/logger.js';

/** Each Logstore gets the same sls.createLogstore settings (ttl, shards, encrypt_conf). */
export async function ensureLogstores(sls: SlsClient, config: Config, logstores: string[], log: Logger): Promise<void> {
  for (const logstore of logstores) await ensureLogstore(sls, config, logstore, log);
}

async function ensureLogstore(sls: SlsClient, config: Config, logstore: string, log: Logger): Promise<void> {
  const spec = config.sls.createLogstore!;
  try {
    await sls.getLogstore(logstore);
    return;
  } catch (err) {
    if (err instanceof SlsError && err.retryable) {
      // SLS being down must not stop the agent: batches spool until it is back (and the Logstore is then there).
      log.warn({ code: err.code, logstore }, 'could not check the logstore at start-up; continuing, batches will spool until SLS answers');
      return;
    }
    if (!(err instanceof SlsError) || err.code !== 'LogStoreNotExist') throw err;
  }
  await sls.createLogstore({
    logstoreName: logstore,
    ttl: spec.ttl,
    shardCount: spec.shardCount,
    ...(spec.encrypt_conf ? { encrypt_conf: spec.encrypt_conf } : {}),
  });
  log.info({ logstore, encrypted: spec.encrypt_conf?.enable ?? false }, 'created logstore');
  // Searchable fields' tokens are made with sls.logstore's index key, so only that Logstore gets their index.
  if (logstore === config.sls.logstore && config.seal.index.length > 0) {
    const keys = await ensureTokenIndex(sls, logstore, config.seal.index);
    log.info({ logstore, keys }, 'created the index of the searchable fields');
  }
}
