// Reads the dead-letter directory back: each file's sealed LogGroup, oldest refusal first, for the reader to open.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { DEAD_LETTER_SUFFIX, DeadLetterFormatError, decodeDeadLetterFile, type DeadLetterMeta } from '../dead-letter/index.js';
import { decodeLogGroup, type LogGroup } from '../wire/loggroup.js';
import { lz4Decompress } from '../wire/lz4.js';
import { zstdDecompress } from '../wire/zstd.js';
import type { KmsClient } from '../keys/index.js';
import { DataKeyRing } from './key-ring.js';
import type { RenderedGroups } from './open-groups.js';
import { renderShipped } from './open-page.js';
import { DeadLetterProjectError, UnsealError } from './errors.js';
import type { CompiledView } from './view.js';

/** A sealed LogGroup from a dead-letter file, with the Logstore it was sealed for. */
export interface DeadLetterGroup {
  group: LogGroup;
  logstore: string;
  /** The file, for errors. */
  where: string;
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
        meta.compressType === 'lz4'
          ? lz4Decompress(body, meta.rawSize)
          : meta.compressType === 'deflate'
            ? inflateSync(body)
            : meta.compressType === 'zstd'
              ? zstdDecompress(body)
              : body;
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


/**
 * The dead-letter groups of `project` (of one Logstore, when given), opened and rendered through `view` a group at a
 * time, as `decrypt` renders a Logstore. A group that does not open stops the run with UnsealError naming its file.
 */
export async function* renderDeadLetters(
  dir: string,
  project: string,
  logstore: string | undefined,
  kms: Pick<KmsClient, 'decrypt'>,
  view: CompiledView,
): AsyncGenerator<RenderedGroups> {
  const rings = new Map<string, DataKeyRing>(); // data keys are bound to their Logstore (encryption context)
  try {
    for await (const g of deadLetterGroups(dir)) {
      if (g.meta.project !== project) throw new DeadLetterProjectError(`--dead-letter: ${g.where} was sealed for project ${g.meta.project}, the config names ${project}`);
      if (logstore !== undefined && g.logstore !== logstore) continue;
      let ring = rings.get(g.logstore);
      if (!ring) rings.set(g.logstore, (ring = new DataKeyRing(kms, project, g.logstore)));
      const blob = g.group.logTags.find((t) => t.key === '__seal_dk__')?.value;
      if (blob) await ring.load(blob);
      const rendered = renderShipped([g.group], ring.get, { project, logstore: g.logstore }, view);
      if (rendered.failure !== undefined) throw new UnsealError(g.where, rendered.failure);
      yield rendered;
    }
  } finally {
    for (const ring of rings.values()) ring.close();
  }
}
