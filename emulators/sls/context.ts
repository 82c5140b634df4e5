// What request handlers share: the emulator's state, one authenticated request, and the reply they produce.
import type { IncomingHttpHeaders } from 'node:http';
import type { Credentials } from './auth.js';
import type { Catalog } from './catalog.js';
import type { FaultController } from './faults.js';

export interface Stats {
  putLogs: number;
  rejected: Record<string, number>;
}

export interface EmulatorState {
  catalog: Catalog;
  faults: FaultController;
  stats: Stats;
  creds: Credentials;
  maxSkewMs: number;
}

/** A request that passed the signature and header checks. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
  project: string;
}

export interface Reply {
  status: number;
  /** Sent as application/json when present. */
  json?: unknown;
  body?: Buffer;
  headers?: Record<string, string>;
  /** Gives the body's memory back once the answer is written (or the connection is gone). */
  release?: () => void;
}

export const OK_EMPTY: Reply = { status: 200 };
