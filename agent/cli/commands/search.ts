// `logseal search -c FILE --where EXPR`: finds sealed logs by their searchable fields and prints them as `decrypt` does.
import { once } from 'node:events';
import { ConfigError, loadConfig, resolveCredentials } from '../../config/index.js';
import { parseWhere, whereFields, type WhereExpr } from '../../decrypt/index.js';
import { OutputBuilder, renderGroup } from '../../decrypt/render.js';
import { IndexKeyError, openIndexKey } from '../../keys/index.js';
import { SealedLogSearch } from '../../search/index.js';
import { SlsClient } from '../../ship/index.js';
import { UsageError } from '../exit.js';
import { parseTimeFlag } from './decrypt.js';
import { kmsClientFor } from './kms.js';

export interface SearchFlags {
  config: string;
  where: string;
  logstore?: string;
  from?: string;
  to?: string;
}

/** Names starting and ending with `__` are the service's and logseal's own; only these address a plaintext log. */
const RESERVED = /^__.*__$/;
const ADDRESSABLE = new Set(['__topic__', '__source__', '__time__']);

function parseSearchWhere(source: string): WhereExpr {
  const where = parseWhere(source); // WhereSyntaxError: one line with the column
  for (const field of whereFields(where)) {
    if (RESERVED.test(field) && !ADDRESSABLE.has(field)) {
      throw new UsageError(`--where: unknown field "${field}" (names like __x__ may only be __topic__, __source__, __time__ or __tag__:<key>)`);
    }
  }
  return where;
}

export async function searchCommand(flags: SearchFlags, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const config = await loadConfig(flags.config);
  const where = parseSearchWhere(flags.where);
  const from = parseTimeFlag(flags.from, 'begin', '--from');
  const to = parseTimeFlag(flags.to, 'end', '--to');
  const range = { from: from === 'begin' ? 0 : from, to: to === 'end' ? Math.floor(Date.now() / 1000) + 86_400 : to };
  if (config.seal.index.length === 0) {
    throw new ConfigError(flags.config, 'seal.index', 'lists no fields: search needs the searchable fields and seal.indexKey');
  }
  const logstore = flags.logstore ?? config.sls.logstore;
  const kms = await kmsClientFor(config);
  const indexKey = await openIndexKey(kms, config.seal.indexKey!, config.sls.project, logstore);
  const sls = new SlsClient({ endpoint: config.sls.endpoint, project: config.sls.project, credentials: resolveCredentials(config, 'sls') });
  const search = new SealedLogSearch(sls, kms, config.sls.project, logstore, indexKey, config.seal.index);
  try {
    // The key is checked first: with a wrong one, tokens match nothing, and only groups shipped without tokens
    // (which every term admits) would be printed, silently incomplete.
    const check = await search.checkKey(range.to);
    if (check.checked > 0 && !check.madeWithKey) {
      throw new IndexKeyError(
        `seal.indexKey: none of the ${check.checked} shipped logs with tokens checked before --to carries a token made with this index key (they were made with another one)`,
      );
    }
    if (check.checked === 0) err.write(`logseal: search: no shipped log in ${logstore} before --to carries searchable-field tokens\n`);
    if ((await search.queryFor(where)) === '*') {
      err.write('logseal: search: --where has no equality on a searchable field: every shipped log in the range is fetched and decrypted\n');
    }
    // Rendered by the decrypt stage's NDJSON writer, so a line prints exactly as `logseal decrypt` prints it.
    const keep = search.keep(where, range);
    for await (const group of search.groups(where, range)) {
      const rendered = new OutputBuilder();
      renderGroup(group, 'ndjson', keep, rendered);
      const bytes = rendered.finish();
      if (bytes.length > 0 && !out.write(bytes)) await once(out, 'drain');
    }
    return 0;
  } finally {
    search.close();
    await sls.close();
  }
}
