// Sealed batches that SLS has not accepted yet, kept on disk so they survive outages and restarts. Never plaintext.
//
// One file per entry rather than segment files: removal is an unlink (no compaction, no reference counting),
// a damaged file costs exactly one entry, and quarantining it is a rename. Entries are sealed batches of up to a
// few MiB, so even a full 1 GiB spool holds only hundreds to thousands of files.
import { constants } from 'node:fs';
import { errorCode, syncDirectory, writeDurably } from './durable.js';
import { chmod, mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeHead, readEntry, sealHead, type CompressType, type EntryMeta, type ReadOutcome } from './entry-file.js';

export interface SpoolEntry {
  /** Increases with every append, also across restarts. */
  id: number;
  logstore: string;
  hashKey?: string;
  payload: { body: Uint8Array; rawSize: number; compressType: CompressType };
  logCount: number;
  createdAt: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** A damaged entry was moved to `<dir>/corrupt/` (the path given); it will not be replayed. Defaults to a process warning. */
  onCorrupt?: (file: string, reason: string) => void;
}

/** The entry does not fit in `maxBytes`; the caller decides (wait, drop with a metric, or apply backpressure). */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
  constructor(
    readonly needed: number,
    readonly used: number,
    readonly maxBytes: number,
  ) {
    super(`spool is full: ${used} of ${maxBytes} bytes used, the batch needs ${needed} (spool.maxBytes)`);
  }
}

/** Reading or writing the spool directory failed (disk full, permissions). */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
}

const ENTRY_NAME = /^(\d{16})\.entry$/;
const TMP_SUFFIX = '.tmp';
const LAST_ID_FILE = 'last-id';
/** Entries at the front whose bodies are kept in memory, so `oldest()` and `front()` can answer synchronously. */
export const SPOOL_PRELOAD = 8;
const PRELOAD = SPOOL_PRELOAD;

const entryName = (id: number) => `${String(id).padStart(16, '0')}.entry`;

export class Spool {
  private readonly entries: EntryMeta[] = []; // in id (= append) order
  private readonly bodies = new Map<number, Uint8Array>();
  private totalBytes = 0;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly onCorrupt: (file: string, reason: string) => void,
  ) {}

  /** Opens (creating if needed) the spool in `dir`, verifying every entry; damaged ones are quarantined and reported. */
  static async open(o: SpoolOptions): Promise<Spool> {
    const onCorrupt = o.onCorrupt ?? ((file, reason) => process.emitWarning(`spool entry quarantined to ${file}: ${reason}`));
    const spool = new Spool(o.dir, o.maxBytes, onCorrupt);
    await spool.recover();
    return spool;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get count(): number {
    return this.entries.length;
  }

  /** Writes the entry durably (file and directory fsynced) before resolving. */
  append(e: Omit<SpoolEntry, 'id' | 'createdAt'>): Promise<SpoolEntry> {
    return this.serialize(() => this.appendNow(e));
  }

  /** The entry appended first among those still in the spool. */
  oldest(): SpoolEntry | undefined {
    const meta = this.entries[0];
    if (!meta) return undefined;
    const body = this.bodies.get(meta.id);
    if (!body) throw new SpoolError(`spool: entry ${meta.id} is not loaded`);
    return toEntry(meta, body);
  }

  /** Up to `n` (at most SPOOL_PRELOAD) entries from the oldest on, in append order: what replay may send at once. */
  front(n: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    for (const meta of this.entries.slice(0, Math.min(n, PRELOAD))) {
      const body = this.bodies.get(meta.id);
      if (!body) break; // still being loaded after a removal: the next call sees it
      out.push(toEntry(meta, body));
    }
    return out;
  }

  /** Deletes an entry (normally the oldest, once SLS accepted it). Unknown ids are ignored. */
  remove(id: number): Promise<void> {
    return this.serialize(() => this.removeNow(id));
  }

  /** Waits for appends and removals already started, then releases the cached bodies. Later calls are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.bodies.clear();
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new SpoolError(`spool ${this.dir}: closed`));
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async appendNow(e: Omit<SpoolEntry, 'id' | 'createdAt'>): Promise<SpoolEntry> {
    const id = this.nextId;
    const createdAt = Date.now();
    const head = encodeHead({
      id, logstore: e.logstore, rawSize: e.payload.rawSize, compressType: e.payload.compressType, logCount: e.logCount,
      createdAt, bodyBytes: e.payload.body.length, ...(e.hashKey !== undefined ? { hashKey: e.hashKey } : {}),
    });
    const fileBytes = head.length + e.payload.body.length;
    if (this.totalBytes + fileBytes > this.maxBytes) throw new SpoolFullError(fileBytes, this.totalBytes, this.maxBytes);
    sealHead(head, e.payload.body);
    this.nextId++;

    const final = path.join(this.dir, entryName(id));
    const tmp = final + TMP_SUFFIX;
    try {
      await writeDurably(this.dir, tmp, final, [head, e.payload.body]);
    } catch (err) {
      throw new SpoolError(`spool ${this.dir}: cannot write entry ${id} (${errorCode(err)})`);
    }

    const meta: EntryMeta = {
      id, logstore: e.logstore, rawSize: e.payload.rawSize, compressType: e.payload.compressType, logCount: e.logCount,
      createdAt, bodyBytes: e.payload.body.length, fileBytes,
    };
    if (e.hashKey !== undefined) meta.hashKey = e.hashKey;
    this.entries.push(meta);
    this.totalBytes += fileBytes;
    // A body in memory shared with the seal workers (seal/shared-buffers.ts) may later take another batch's body:
    // what the spool keeps to replay is its own copy.
    const body = e.payload.body.buffer instanceof SharedArrayBuffer ? e.payload.body.slice() : e.payload.body;
    if (this.entries.length <= PRELOAD) this.bodies.set(id, body);
    return toEntry(meta, body);
  }

  private async removeNow(id: number): Promise<void> {
    const index = this.entries.findIndex((m) => m.id === id);
    if (index < 0) return;
    const meta = this.entries[index]!;
    // Without any file left, the highest id would be forgotten and a restart could hand it out again.
    if (this.entries.length === 1) await this.writeLastId(this.nextId - 1);
    try {
      await unlink(path.join(this.dir, entryName(id)));
      await syncDirectory(this.dir);
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw new SpoolError(`spool ${this.dir}: cannot remove entry ${id} (${errorCode(err)})`);
    }
    // The next entries' bodies are already loaded (PRELOAD > 1), so oldest() stays answerable while the window refills.
    this.entries.splice(index, 1);
    this.bodies.delete(id);
    this.totalBytes -= meta.fileBytes;
    await this.refillPreload();
  }

  private async refillPreload(): Promise<void> {
    for (let i = 0; i < PRELOAD && i < this.entries.length; ) {
      const meta = this.entries[i]!;
      if (this.bodies.has(meta.id)) {
        i++;
        continue;
      }
      const outcome = await this.readEntryFile(meta.id, true);
      if (outcome.ok && outcome.body) {
        this.bodies.set(meta.id, outcome.body);
        i++;
      } else {
        // Damaged since it was verified at open: quarantine it and look at the next one.
        this.entries.splice(i, 1);
        this.totalBytes -= meta.fileBytes;
        await this.quarantine(entryName(meta.id), outcome.ok ? 'body missing' : outcome.reason);
      }
    }
  }

  /** Scans the directory: verifies entries in id order, quarantines damaged ones, and finds the next id. */
  private async recover(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await chmod(this.dir, 0o700);
    } catch (err) {
      throw new SpoolError(`spool ${this.dir}: cannot create directory (${errorCode(err)})`);
    }
    let highest = await this.readLastId();
    for (const name of await safeReaddir(path.join(this.dir, 'corrupt'))) {
      const m = /^(\d{16})\.entry/.exec(name);
      if (m) highest = Math.max(highest, Number(m[1]));
    }
    const ids: number[] = [];
    for (const name of await safeReaddir(this.dir)) {
      const m = ENTRY_NAME.exec(name);
      if (m) ids.push(Number(m[1]));
      // An append that crashed before its rename was never acknowledged to the caller: nothing is lost by deleting it.
      else if (name.endsWith(`.entry${TMP_SUFFIX}`)) await unlink(path.join(this.dir, name)).catch(() => undefined);
    }
    ids.sort((a, b) => a - b);
    for (const id of ids) {
      highest = Math.max(highest, id);
      const outcome = await this.readEntryFile(id, this.entries.length < PRELOAD);
      if (!outcome.ok) {
        await this.quarantine(entryName(id), outcome.reason);
        continue;
      }
      this.entries.push(outcome.meta);
      this.totalBytes += outcome.meta.fileBytes;
      if (outcome.body) this.bodies.set(id, outcome.body);
    }
    this.nextId = highest + 1;
  }

  private async readEntryFile(id: number, keepBody: boolean): Promise<ReadOutcome> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(path.join(this.dir, entryName(id)), constants.O_RDONLY);
      return await readEntry(fh, id, keepBody);
    } catch (err) {
      const code = errorCode(err);
      // Running out of descriptors or memory says nothing about the entry: do not quarantine it.
      if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM') throw new SpoolError(`spool ${this.dir}: cannot read entry ${id} (${code})`);
      return { ok: false, reason: `unreadable (${code})` };
    } finally {
      await fh?.close();
    }
  }

  private async quarantine(name: string, reason: string): Promise<void> {
    const corruptDir = path.join(this.dir, 'corrupt');
    await mkdir(corruptDir, { recursive: true, mode: 0o700 });
    const taken = new Set(await safeReaddir(corruptDir));
    let target = name;
    for (let n = 1; taken.has(target); n++) target = `${name}.${n}`;
    const destination = path.join(corruptDir, target);
    await rename(path.join(this.dir, name), destination);
    await syncDirectory(this.dir);
    this.onCorrupt(destination, reason);
  }

  private async readLastId(): Promise<number> {
    try {
      const n = Number((await readFile(path.join(this.dir, LAST_ID_FILE), 'utf8')).trim());
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  private async writeLastId(id: number): Promise<void> {
    const file = path.join(this.dir, LAST_ID_FILE);
    const tmp = file + TMP_SUFFIX;
    try {
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
      try {
        await fh.writeFile(`${id}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
    } catch (err) {
      throw new SpoolError(`spool ${this.dir}: cannot record the last entry id (${errorCode(err)})`);
    }
  }
}

function toEntry(meta: EntryMeta, body: Uint8Array): SpoolEntry {
  const entry: SpoolEntry = {
    id: meta.id,
    logstore: meta.logstore,
    payload: { body, rawSize: meta.rawSize, compressType: meta.compressType },
    logCount: meta.logCount,
    createdAt: meta.createdAt,
  };
  if (meta.hashKey !== undefined) entry.hashKey = meta.hashKey;
  return entry;
}


async function safeReaddir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

