// Shared scaffolding for the file input tests: temp dirs, a background consumer, and bounded waiting.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { FileInput, type FileCheckpoint, type InputConfig, type InputEvent, type InputRun } from '../../agent/input/index.js';
import { decodeLogGroup, type Log, type LogTag } from '../../agent/wire/loggroup.js';

/** One log the input handed out, decoded from its run, with where it ends in its file. */
export interface Entry {
  log: Log;
  topic: string;
  source: string;
  tags: LogTag[];
  fileId: string;
  endOffset: number;
}

/** The logs of a run, decoded; fails when the run's bookkeeping does not match its bytes. */
export function entriesOf(run: InputRun): Entry[] {
  const { logs } = decodeLogGroup(run.bytes);
  if (logs.length !== run.count || run.ends.length !== run.count || run.offsets.length !== run.count) {
    throw new Error(`run holds ${logs.length} logs, says ${run.count} (${run.ends.length} ends, ${run.offsets.length} offsets)`);
  }
  if (run.ends[run.count - 1] !== run.bytes.length) throw new Error('run ends do not reach the end of its bytes');
  for (let i = 0; i < run.count; i++) {
    // Each log's field on its own decodes to that log: the ends cut the bytes where the batcher may cut them.
    const one = decodeLogGroup(run.bytes.subarray(i === 0 ? 0 : run.ends[i - 1], run.ends[i])).logs;
    if (one.length !== 1 || one[0].time !== logs[i].time) throw new Error(`run end ${i} does not fall between logs`);
  }
  const { topic, source, tags, fileId } = run;
  return logs.map((log, i) => ({ log, topic, source, tags, fileId, endOffset: run.offsets[i] }));
}

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-input-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Per test: a fresh temp dir, and harnesses that are closed (and the dir removed) after the test. */
export function useInputFixture(): { readonly dir: string; harness: (...args: ConstructorParameters<typeof Harness>) => Harness } {
  let current = '';
  let remove: () => Promise<void> = async () => {};
  const open: Harness[] = [];
  beforeEach(async () => {
    ({ dir: current, remove } = await tempDir());
  });
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
    await remove();
  });
  return {
    get dir() {
      return current;
    },
    harness: (...args) => {
      const h = new Harness(...args);
      open.push(h);
      return h;
    },
  };
}

/** Polls `cond` until it holds; fails after `timeoutMs` naming what was awaited. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function valueText(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
}

/** read(), decoded: the logs of the runs it resolved with. */
export async function readEntries(input: FileInput, maxLogs: number): Promise<Entry[]> {
  return (await input.read(maxLogs)).flatMap(entriesOf);
}

export function contentOf(e: Entry, key = 'content'): string | undefined {
  const c = e.log.contents.find((x) => x.key === key);
  return c && valueText(c.value);
}

export function tagOf(e: Entry, key: string): string | undefined {
  return e.tags.find((t) => t.key === key)?.value;
}

/** Timings small enough for tests: fast scans and polls, a short quiet period before closing rotated files. */
export const FAST = { scanIntervalMs: 50 } satisfies Partial<InputConfig>;

/** A FileInput with a consumer that keeps calling read() in the background, collecting decoded logs and events. */
export class Harness {
  readonly input: FileInput;
  readonly entries: Entry[] = [];
  readonly events: InputEvent[] = [];
  private readonly consumer: Promise<void>;

  constructor(
    inputs: InputConfig[],
    o: {
      checkpoints?: Map<string, FileCheckpoint>;
      readChunkBytes?: number;
      rotateWaitMs?: number;
      batch?: number;
      consume?: boolean;
      maxOpenFiles?: number;
      /** Called after each read() the consumer made. */
      afterRead?: () => void;
    } = {},
  ) {
    const input = new FileInput(inputs, {
      checkpoints: o.checkpoints ?? new Map(),
      maxOpenFiles: o.maxOpenFiles,
      hostname: 'test-host',
      readChunkBytes: o.readChunkBytes,
      rotateWaitMs: o.rotateWaitMs ?? 150,
      pollIntervalMs: 25,
      onEvent: (e) => this.events.push(e),
    });
    this.input = input;
    const batch = o.batch ?? 1000;
    this.consumer =
      o.consume === false
        ? Promise.resolve()
        : (async () => {
            for (;;) {
              const got = await input.read(batch);
              if (got.length === 0) return;
              for (const run of got) this.entries.push(...entriesOf(run));
              o.afterRead?.();
            }
          })();
  }

  texts(): string[] {
    return this.entries.map((e) => contentOf(e) ?? '');
  }

  eventsOf(type: InputEvent['type']): InputEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  async waitForLines(n: number, what = `${n} lines`, timeoutMs?: number): Promise<void> {
    await until(() => this.entries.length >= n, `${what} (have ${this.entries.length})`, timeoutMs);
  }

  async waitForEvent(type: InputEvent['type'], count = 1): Promise<void> {
    await until(() => this.eventsOf(type).length >= count, `${count} '${type}' event(s); got ${JSON.stringify(this.events)}`);
  }

  /** Checkpoints as the pipeline would save them once everything read has been acknowledged. */
  checkpoints(): Map<string, FileCheckpoint> {
    return new Map(this.input.files().map((f) => [f.fileId, f]));
  }

  async close(): Promise<void> {
    await this.input.close();
    await this.consumer;
  }
}

/** Asserts each file's entries come with strictly growing endOffset. */
export function offsetsGrowPerFile(entries: Entry[]): boolean {
  const last = new Map<string, number>();
  for (const e of entries) {
    if ((last.get(e.fileId) ?? -1) >= e.endOffset) return false;
    last.set(e.fileId, e.endOffset);
  }
  return true;
}
