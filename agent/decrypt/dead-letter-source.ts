// Reads the dead-letter directory back: each file's sealed LogGroup, oldest refusal first, for the reader to open.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { DEAD_LETTER_SUFFIX, DeadLetterFormatError, decodeDeadLetterFile, type DeadLetterMeta } from '../dead-letter/index.js';
import { decodeLogGroup } from '../wire/loggroup.js';
import { lz4Decompress } from '../wire/lz4.js';
import type { ShippedGroup } from './reader.js';

export interface DeadLetterGroup extends ShippedGroup {
  meta: DeadLetterMeta;
}

/** Files in name order (their names start with the refusal time); a damaged or foreign `.dead` file stops the run. */
export async function* deadLetterGroups(dir: string): AsyncGenerator<DeadLetterGroup> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new DeadLetterFormatError(`${dir}: cannot read the dead-letter directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  for (const name of names.filter((n) => n.endsWith(DEAD_LETTER_SUFFIX)).sort()) {
    const file = path.join(dir, name);
    const { meta, body } = decodeDeadLetterFile(await readFile(file), file);
    let encoded: Uint8Array;
    try {
      encoded =
        meta.compressType === 'lz4' ? lz4Decompress(body, meta.rawSize) : meta.compressType === 'deflate' ? inflateSync(body) : body;
    } catch (err) {
      throw new DeadLetterFormatError(`${file}: the body does not decompress as ${meta.compressType} (${(err as Error).message})`);
    }
    let group;
    try {
      group = decodeLogGroup(encoded);
    } catch (err) {
      throw new DeadLetterFormatError(`${file}: the body is not a LogGroup (${(err as Error).message})`);
    }
    yield { group, logstore: meta.logstore, where: file, meta };
  }
}
