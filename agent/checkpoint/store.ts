// Durable per-file read offsets, replaced atomically, so a restart resumes exactly after the last acknowledged line.
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { nativeAddon } from '../native/addon.js';

export interface FileCheckpoint {
  fileId: string;
  path: string;
  dev: number;
  ino: number;
  /** Hex SHA-256 of the first `fingerprintBytes` bytes of the file. */
  fingerprint: string;
  fingerprintBytes: number;
  /** Byte offset below which every line has been acknowledged. */
  offset: number;
  /**
   * Offset up to which lines had been read and handed on to be sealed and sent when this was saved, when beyond
   * `offset`: after a crash, lines read again below it may be in SLS already. Only for the resent-lines metric.
   */
  readTo?: number;
}

/** The checkpoint file cannot be read or written; the pipeline decides whether to start over. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`checkpoints ${file}: ${reason}`);
  }
}

const FORMAT_VERSION = 1;
const count = z.number().int().nonnegative();
const fileSchema = z.object({
  version: z.number(),
  files: z.array(
    z.strictObject({
      fileId: z.string().min(1),
      path: z.string(),
      dev: count,
      ino: count,
      fingerprint: z.string().regex(/^[0-9a-f]*$/),
      fingerprintBytes: count,
      offset: count,
    }),
  ),
  // Beside `files` rather than in them: versions that do not know it ignore it (each file entry is strict).
  readTo: z.record(z.string(), count).optional(),
});

type ReadResult = { kind: 'ok'; files: Map<string, FileCheckpoint> } | { kind: 'missing' } | { kind: 'corrupt'; reason: string };

export interface CheckpointStoreOptions {
  /** Called when the current file was unreadable and the previous version (`.bak`) was used instead. */
  onRecovered?: (corruptCopy: string, reason: string) => void;
  /**
   * What replaces the file in one job (by default the addon's replaceFileDurably, where it was built); false: every
   * save through node:fs/promises, as without the addon.
   */
  oneJob?: ReplaceFile | false;
}

export type ReplaceFile = NonNullable<NonNullable<typeof nativeAddon>['replaceFileDurably']>;

/**
 * One JSON file (`{"version":1,"files":[…]}`) plus its previous version at `<path>.bak`.
 * A save never leaves a half-written file under `path`: it writes a temporary file, fsyncs it, renames it over, and
 * fsyncs the directory so the rename itself survives a power loss.
 */
export class CheckpointStore {
  private queue: Promise<unknown> = Promise.resolve();
  private tmpCounter = 0;
  /** The addon's save in one thread-pool job, the same calls as write()'s: a save takes one round trip, not ten. */
  private oneJob: ReplaceFile | undefined;

  constructor(
    readonly path: string,
    private readonly options: CheckpointStoreOptions = {},
  ) {
    this.oneJob = options.oneJob === false ? undefined : (options.oneJob ?? nativeAddon?.replaceFileDurably?.bind(nativeAddon));
  }

  private get backupPath(): string {
    return `${this.path}.bak`;
  }

  private get corruptPath(): string {
    return `${this.path}.corrupt`;
  }

  /** The saved checkpoints by fileId; empty on first start. Throws CheckpointError when neither version is readable. */
  load(): Promise<Map<string, FileCheckpoint>> {
    return this.serialize(() => this.loadNow());
  }

  /** Replaces the saved checkpoints with `cps`. Saves run one at a time in call order. */
  save(cps: Iterable<FileCheckpoint>): Promise<void> {
    // Copy now: the caller keeps mutating its objects while earlier saves are still being written.
    const list = [...cps];
    const files = list.map(({ fileId, path: p, dev, ino, fingerprint, fingerprintBytes, offset }) => ({
      fileId, path: p, dev, ino, fingerprint, fingerprintBytes, offset,
    }));
    const readTo = list.filter((f) => f.readTo !== undefined && f.readTo > f.offset).map((f) => `${JSON.stringify(f.fileId)}:${f.readTo}`);
    const readToPart = readTo.length > 0 ? `,\n"readTo":{${readTo.join(',')}}` : '';
    const body = `{"version":${FORMAT_VERSION},"files":[${files.map((f) => `\n${JSON.stringify(f)}`).join(',')}\n]${readToPart}}\n`;
    return this.serialize(() => this.write(body));
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async loadNow(): Promise<Map<string, FileCheckpoint>> {
    await this.removeStaleTemporaries();
    const current = await this.read(this.path);
    if (current.kind === 'ok') return current.files;
    const backup = await this.read(this.backupPath);
    if (current.kind === 'missing') {
      if (backup.kind === 'ok') return backup.files; // a previous recovery moved the corrupt file away
      if (backup.kind === 'missing') return new Map();
      throw new CheckpointError(this.backupPath, `unreadable (${backup.reason})`);
    }
    if (backup.kind === 'ok') {
      await rename(this.path, this.corruptPath);
      await syncDirectory(path.dirname(this.path));
      this.options.onRecovered?.(this.corruptPath, current.reason);
      return backup.files;
    }
    await copyFile(this.path, this.corruptPath);
    throw new CheckpointError(this.path, `unreadable (${current.reason}); a copy is kept at ${this.corruptPath}`);
  }

  private async read(file: string): Promise<ReadResult> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw new CheckpointError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (text.length === 0) return { kind: 'corrupt', reason: 'empty file' };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { kind: 'corrupt', reason: 'not valid JSON' };
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) return { kind: 'corrupt', reason: 'unexpected structure' };
    if (parsed.data.version !== FORMAT_VERSION) {
      throw new CheckpointError(file, `format version ${parsed.data.version} is not supported (this logseal reads version ${FORMAT_VERSION})`);
    }
    const readTo = parsed.data.readTo ?? {};
    const files = parsed.data.files.map((f): FileCheckpoint => {
      const to = readTo[f.fileId];
      return to !== undefined && to > f.offset ? { ...f, readTo: to } : f;
    });
    return { kind: 'ok', files: new Map(files.map((f) => [f.fileId, f])) };
  }

  /** A new temporary file's name for the next save. */
  private nextTmp(): string {
    return `${this.path}.tmp-${process.pid}-${++this.tmpCounter}`;
  }

  /** Where the current version is linked before it is renamed to `.bak`. */
  private get backupStaging(): string {
    return `${this.backupPath}.tmp-${process.pid}`;
  }

  /** The directory, made only when a save finds it missing (not with every save: one call less each). */
  private makeDirectory(): Promise<unknown> {
    return mkdir(path.dirname(this.path), { recursive: true, mode: 0o700 });
  }

  private saveError(err: unknown): CheckpointError {
    return err instanceof CheckpointError ? err : new CheckpointError(this.path, `cannot save (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }

  private async write(body: string): Promise<void> {
    if (this.oneJob && (await this.writeInOneJob(this.oneJob, body))) return;
    const dir = path.dirname(this.path);
    const tmp = this.nextTmp();
    try {
      const fh = await this.create(tmp);
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.keepPreviousVersion();
      await rename(tmp, this.path);
      await syncDirectory(dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw this.saveError(err);
    }
  }

  /**
   * write() as one job of the addon; false when this file system has no hard links for the backup (the save is then
   * write()'s, which copies, and so are all later ones).
   */
  private async writeInOneJob(replace: ReplaceFile, body: string): Promise<boolean> {
    const dir = path.dirname(this.path);
    const bytes = Buffer.from(body, 'utf8');
    for (let attempt = 0; ; attempt++) {
      try {
        await replace(this.nextTmp(), this.path, this.backupStaging, this.backupPath, dir, bytes);
        return true;
      } catch (err) {
        const { code, syscall } = err as NodeJS.ErrnoException;
        if (syscall === 'link') {
          this.oneJob = undefined;
          return false;
        }
        if (code === 'ENOENT' && syscall === 'open' && attempt === 0) {
          await this.makeDirectory().catch((e: unknown) => Promise.reject(this.saveError(e)));
          continue;
        }
        throw this.saveError(err);
      }
    }
  }

  /** Opens a new temporary file, making the directory if it is missing. */
  private async create(tmp: string): Promise<FileHandle> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;
    try {
      return await open(tmp, flags, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.makeDirectory();
      return open(tmp, flags, 0o600);
    }
  }

  /** The current file becomes `.bak` (a hard link: no copy, and `path` never disappears). */
  private async keepPreviousVersion(): Promise<void> {
    const staging = this.backupStaging;
    try {
      await this.linkOrCopy(staging);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // first save
      if (code !== 'EEXIST') throw err;
      // Left by a save that failed after linking; load() removes such files at start, so this is rare.
      await unlink(staging);
      await this.linkOrCopy(staging);
    }
    await rename(staging, this.backupPath);
  }

  private async linkOrCopy(staging: string): Promise<void> {
    try {
      await link(this.path, staging);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EEXIST') throw err;
      // Some file systems have no hard links.
      await copyFile(this.path, staging, constants.COPYFILE_EXCL);
    }
  }

  private async removeStaleTemporaries(): Promise<void> {
    const dir = path.dirname(this.path);
    const prefixes = [`${path.basename(this.path)}.tmp-`, `${path.basename(this.backupPath)}.tmp-`];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (prefixes.some((p) => name.startsWith(p))) await unlink(path.join(dir, name)).catch(() => undefined);
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, constants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}
