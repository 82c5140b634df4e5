// Worker threads that open PullLogs bodies; data keys come from the main thread's DataKeyRing, loaded on first sight.
// Their output goes into slots of shared memory that are handed out with a page and taken back once it is written,
// so that reading a Logstore does not allocate (and collect) a new buffer for every page.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { PulledBody } from '../ship/pull-body.js';
import type { DecryptWorkerData, PageOutcome, PageTask } from './decrypt-worker.js';
import type { DataKeyRing } from './key-ring.js';
import type { RenderedGroups, SealedFor } from './open-groups.js';
import type { ReadView } from './view.js';

// Room for a page's output (a page of 3 groups of 1 MB comes to about 5-6 MB of NDJSON) and for its body as pulled;
// memory is only taken as it is written. A page that needs more gets a buffer of its own.
const SLOT_BYTES = 32 * 2 ** 20;
const BODY_SLOT_BYTES = 16 * 2 ** 20;

/** Memory lent for one PullLogs body, from before it is pulled until its page is opened. */
export interface BodyLoan {
  readonly slot: number;
  /** For PullOptions.bodyInto: the slot's memory when the body fits. */
  readonly bodyInto: (length: number) => Buffer | undefined;
}

export class DecryptPool {
  private readonly piscina: Piscina<PageTask, PageOutcome>;
  private readonly slots: SharedArrayBuffer[];
  private readonly free: number[];
  private readonly bodySlots: SharedArrayBuffer[];
  private readonly freeBodies: number[];

  /** `slots`: output slots, one per page that may be open or waiting to be written at once. */
  constructor(
    private readonly ring: DataKeyRing,
    threads = availableParallelism(),
    slots = threads + 1,
  ) {
    // Under vitest/tsx this module is TypeScript and so is the worker; the compiled build uses .js. The path goes through
    // ../decrypt/ so that it also holds from the bundled CLI (dist/agent/cli/logseal.cjs), one level below dist/agent too.
    const source = import.meta.url.endsWith('.ts');
    const n = Math.max(1, threads);
    this.slots = Array.from({ length: Math.max(0, slots) }, () => new SharedArrayBuffer(SLOT_BYTES));
    this.free = this.slots.map((_, i) => i);
    this.bodySlots = Array.from({ length: Math.max(0, slots) }, () => new SharedArrayBuffer(BODY_SLOT_BYTES));
    this.freeBodies = this.bodySlots.map((_, i) => i);
    this.piscina = new Piscina({
      filename: fileURLToPath(new URL(source ? '../decrypt/decrypt-worker.ts' : '../decrypt/decrypt-worker.js', import.meta.url)),
      minThreads: n,
      maxThreads: n,
      idleTimeout: Infinity,
      execArgv: source ? ['--import', 'tsx'] : [],
      workerData: { slots: this.slots, bodySlots: this.bodySlots } satisfies DecryptWorkerData,
      // A page's groups that are not opened by the addon pass through the heap as strings of up to 1 MB; left to its
      // defaults (sized from the machine's memory) V8 lets them pile up for hundreds of MB before a full collection.
      // The limit is several times the largest page (16 MB of LogGroupList).
      resourceLimits: { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 16 },
    });
  }

  /** Memory for the body of a page about to be pulled, if a slot is free; it goes back with open() or returnBody(). */
  lendBody(): BodyLoan | undefined {
    const slot = this.freeBodies.pop();
    if (slot === undefined) return undefined;
    const memory = Buffer.from(this.bodySlots[slot]!);
    return { slot, bodyInto: (length) => (length <= memory.length ? memory.subarray(0, length) : undefined) };
  }

  /** Takes back a body loan whose page is not opened (the pull failed or the shard stopped). */
  returnBody(loan: BodyLoan | undefined): void {
    if (loan) this.freeBodies.push(loan.slot);
  }

  /**
   * Opens one PullLogs body on a worker thread: the body is in the slot of `loan` when it was pulled into it, and
   * moved there otherwise. A thread that meets a data key it does not hold answers with the blobs; the key is loaded
   * (one KMS Decrypt per blob per process) and the page sent again. The result's `release` must be called once its
   * output is written (or dropped). The loan goes back once the page is opened.
   */
  async open(page: Pick<PulledBody, 'body' | 'compressType' | 'rawSize'>, target: SealedFor, view: ReadView, trackFields: string[], loan?: BodyLoan): Promise<RenderedGroups> {
    const inSlot = loan !== undefined && page.body.buffer === this.bodySlots[loan.slot];
    if (!inSlot) this.returnBody(loan);
    let body: Uint8Array | undefined = inSlot ? undefined : page.body.byteOffset === 0 && page.body.byteLength === page.body.buffer.byteLength ? page.body : Uint8Array.from(page.body);
    let keys: PageTask['keys'] = [];
    const slot = this.free.pop();
    try {
      for (;;) {
        const source: PageTask['page'] = body ? { body, compressType: page.compressType, rawSize: page.rawSize } : { bodySlot: loan!.slot, length: page.body.length, compressType: page.compressType, rawSize: page.rawSize };
        const task: PageTask = { page: source, target, view, trackFields, keys, ...(slot !== undefined ? { slot } : {}) };
        const outcome = await this.piscina.run(task, { transferList: body ? [body.buffer as ArrayBuffer] : [] });
        if (outcome.kind === 'keys') {
          body = outcome.body;
          keys = await this.ring.loadAll(outcome.blobs);
          continue;
        }
        const { kind: _kind, ...rendered } = outcome;
        if ('out' in rendered) {
          this.giveBack(slot);
          return rendered;
        }
        const { slot: used, length, ...counts } = rendered;
        let released = false;
        const release = (): void => {
          if (!released) this.giveBack(used);
          released = true;
        };
        return { ...counts, out: Buffer.from(this.slots[used]!, 0, length), release };
      }
    } catch (err) {
      this.giveBack(slot);
      throw err;
    } finally {
      if (inSlot) this.returnBody(loan);
    }
  }

  private giveBack(slot: number | undefined): void {
    if (slot !== undefined) this.free.push(slot);
  }

  async close(): Promise<void> {
    await this.piscina.close();
  }
}
