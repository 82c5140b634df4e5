// Where KMS calls run: a worker thread started at the first call and stopped once no call came for `idleMs`. KMS is
// called once per data key (every few minutes by default), and the official client costs ~15 MiB and ~0.1 CPU s
// to load: held in the main thread, that memory would stay for the agent's whole life.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KmsError } from './kms-error.js';
import type { SdkAnswer, SdkRequest, SdkTarget } from './kms-sdk-call.js';
import type { KmsCall, KmsReply } from './kms-worker.js';

function tsEntry(href: string): string {
  // tsx's ESM entry sits next to the CommonJS one that require.resolve finds.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(href)}); })`;
}

interface Pending {
  resolve(answer: SdkAnswer): void;
  reject(err: KmsError): void;
}

export class KmsThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly idleMs = 5000) {}

  /** Whether the thread is running (for tests). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  call(target: SdkTarget, request: SdkRequest): Promise<SdkAnswer> {
    const worker = this.start();
    clearTimeout(this.idleTimer);
    const id = this.nextId++;
    return new Promise<SdkAnswer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // an unanswered call keeps the process alive, as a request on the main thread would
      worker.postMessage({ id, target, request } satisfies KmsCall);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // Under vitest/tsx this module is TypeScript and so is the worker; the compiled build uses .js. The path goes through
    // ../keys/ so that it also holds from the bundled CLI (dist/agent/cli/logseal.cjs). A TypeScript entry is imported
    // from a one-line script that registers tsx's loader first (a worker's entry is resolved before `--import` runs).
    const source = import.meta.url.endsWith('.ts');
    const url = new URL(source ? '../keys/kms-worker.ts' : '../keys/kms-worker.js', import.meta.url);
    const worker = source ? new Worker(tsEntry(url.href), { eval: true }) : new Worker(fileURLToPath(url));
    worker.on('message', (reply: KmsReply) => this.settle(reply));
    const stopped = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      clearTimeout(this.idleTimer);
      for (const p of this.pending.values()) p.reject(new KmsError({ code: 'ClientError', status: 0, message: `the KMS thread ${why}` }));
      this.pending.clear();
    };
    worker.on('error', (err) => stopped(`failed: ${err.message}`));
    worker.on('exit', (code) => stopped(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private settle(reply: KmsReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if ('answer' in reply) p.resolve(reply.answer);
    else p.reject(new KmsError(reply.error));
    if (this.pending.size === 0 && this.worker) {
      this.worker.unref();
      const worker = this.worker;
      this.idleTimer = setTimeout(() => {
        if (this.worker !== worker || this.pending.size > 0) return;
        this.worker = undefined;
        void worker.terminate();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }
}
