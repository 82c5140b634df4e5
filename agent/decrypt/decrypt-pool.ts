// Worker threads that open PullLogs bodies; data keys come from the main thread's DataKeyRing, loaded on first sight.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { PulledBody } from '../ship/pull-body.js';
import type { PageOutcome, PageTask } from './decrypt-worker.js';
import type { DataKeyRing } from './key-ring.js';
import type { RenderedGroups, SealedFor } from './open-groups.js';
import type { ReadView } from './view.js';

export class DecryptPool {
  private readonly piscina: Piscina<PageTask, PageOutcome>;

  constructor(
    private readonly ring: DataKeyRing,
    threads = availableParallelism(),
  ) {
    // Under vitest/tsx this module is TypeScript and so is the worker; the compiled build uses .js.
    const source = import.meta.url.endsWith('.ts');
    const n = Math.max(1, threads);
    this.piscina = new Piscina({
      filename: fileURLToPath(new URL(source ? './decrypt-worker.ts' : './decrypt-worker.js', import.meta.url)),
      minThreads: n,
      maxThreads: n,
      idleTimeout: Infinity,
      execArgv: source ? ['--import', 'tsx'] : [],
      // A page's sealed records pass through the heap as strings of up to 1 MB; left to its defaults (sized from the
      // machine's memory) V8 lets them pile up for hundreds of MB before a full collection. The limit is several
      // times the largest page (16 MB of LogGroupList).
      resourceLimits: { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 16 },
    });
  }

  /**
   * Opens one PullLogs body on a worker thread (the body is moved there). A thread that meets a data key it does
   * not hold hands the body back; the key is loaded (one KMS Decrypt per blob per process) and the page sent again.
   */
  async open(page: Pick<PulledBody, 'body' | 'compressType' | 'rawSize'>, target: SealedFor, view: ReadView, trackFields: string[]): Promise<RenderedGroups> {
    let body = page.body.byteOffset === 0 && page.body.byteLength === page.body.buffer.byteLength ? page.body : Uint8Array.from(page.body);
    let keys: PageTask['keys'] = [];
    for (;;) {
      const task: PageTask = { page: { body, compressType: page.compressType, rawSize: page.rawSize }, target, view, trackFields, keys };
      const outcome = await this.piscina.run(task, { transferList: [body.buffer as ArrayBuffer] });
      if (outcome.kind === 'done') return outcome;
      body = outcome.body;
      keys = await this.ring.loadAll(outcome.blobs);
    }
  }

  async close(): Promise<void> {
    await this.piscina.close();
  }
}
