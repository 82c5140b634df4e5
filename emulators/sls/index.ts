// A local SLS endpoint over real HTTP: signed PutLogs/PullLogs and logstore calls, durable and encrypted at rest, with fault injection.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Catalog } from './catalog.js';
import type { EmulatorState } from './context.js';
import { FaultController } from './faults.js';
import { requestListener } from './server.js';

export interface SlsEmulatorOptions {
  dataDir: string;
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  accessKeyId: string;
  accessKeySecret: string;
  atRestKms?: AtRestKms;
  /** Largest accepted difference between the request's Date and the emulator's clock; 15 minutes by default. */
  maxSkewMs?: number;
}

export interface FaultSettings {
  /** Share (0..1) of PutLogs calls that fail with errorCode/errorStatus. */
  errorRate?: number;
  errorCode?: string;
  errorStatus?: number;
  /** Added before every SLS API request is handled. */
  latencyMs?: number;
  /** Every PutLogs fails with errorCode/errorStatus (default 503 ServerBusy). */
  refuseWrites?: boolean;
  /**
   * A PutLogs whose LogGroup (uncompressed) is larger than this many bytes fails with 400 PostBodyTooLarge, as the
   * service refuses a group over its limits: a lower limit than the real one, so a refusal no retry can fix is cheap
   * to provoke for one batch while the others go through.
   */
  maxGroupBytes?: number;
  /** The next this many GetLogs answers are `x-log-progress: Incomplete` with half of their page: ask again. */
  getLogsIncomplete?: number;
}

export interface SlsEmulator {
  url: string;
  port: number;
  faults: { set(f: FaultSettings): void; clear(): void; current(): FaultSettings };
  stats(): { putLogs: number; rejected: Record<string, number> };
  close(): Promise<void>;
}

/** For BYOK at-rest encryption. */
export interface AtRestKms {
  /** Throws an Error with a `code` ('Rejected.Disabled' | 'Rejected.PendingDeletion' | 'Forbidden.KeyNotFound') when the CMK is unusable. */
  generateDataKey(cmkId: string, numberOfBytes: number, context: Record<string, string>): Promise<{ plaintext: Buffer; blob: string }>;
  decrypt(blob: string, context: Record<string, string>): Promise<Buffer>;
  keyState(cmkId: string): Promise<'Enabled' | 'Disabled' | 'PendingDeletion' | 'NotFound'>;
}

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

export async function startSlsEmulator(o: SlsEmulatorOptions): Promise<SlsEmulator> {
  const host = o.host ?? '127.0.0.1';
  const catalog = await Catalog.open(o.dataDir, o.atRestKms);
  const faults = new FaultController();
  const state: EmulatorState = {
    catalog,
    faults,
    stats: { putLogs: 0, rejected: {} },
    creds: { accessKeyId: o.accessKeyId, accessKeySecret: o.accessKeySecret },
    maxSkewMs: o.maxSkewMs ?? DEFAULT_MAX_SKEW_MS,
  };
  const server = createServer(requestListener(state));
  // Longer than common client pools keep idle sockets, so a client never reuses a socket the server just closed.
  server.keepAliveTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await catalog.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    faults: { set: (f) => faults.set(f), clear: () => faults.clear(), current: () => faults.current() },
    stats: () => ({ putLogs: state.stats.putLogs, rejected: { ...state.stats.rejected } }),
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await catalog.close();
      })()),
  };
}
