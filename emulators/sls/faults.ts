// Injected failures for chaos runs: PutLogs errors at a rate, always, or for oversized groups, and extra latency.
import { z } from 'zod';
import type { FaultSettings } from './index.js';
import { SlsApiError, statusForCode } from './errors.js';

const faultSchema = z
  .object({
    errorRate: z.number().min(0).max(1).optional(),
    errorCode: z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,63}$/).optional(),
    errorStatus: z.number().int().min(400).max(599).optional(),
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    refuseWrites: z.boolean().optional(),
    maxGroupBytes: z.number().int().min(0).optional(),
    getLogsIncomplete: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

/** Validates settings arriving over HTTP (`PUT /_emulator/faults`). */
export function parseFaultSettings(v: unknown): FaultSettings {
  const r = faultSchema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SlsApiError('ParameterInvalid', `fault settings: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`);
  }
  const f: FaultSettings = {};
  for (const [k, val] of Object.entries(r.data)) if (val !== undefined) (f as Record<string, unknown>)[k] = val;
  return f;
}

const MESSAGES: Record<string, string> = {
  ServerBusy: 'The server is busy, please try again later.',
  WriteQuotaExceed: 'Write quota is exceeded.',
  ShardWriteQuotaExceed: 'Shard write quota is exceeded.',
  ExceedQuota: 'Quota is exceeded.',
  InternalServerError: 'Internal server error.',
};

export class FaultController {
  private settings: FaultSettings = {};

  set(f: FaultSettings): void {
    this.settings = parseFaultSettings(f);
  }

  clear(): void {
    this.settings = {};
  }

  current(): FaultSettings {
    return { ...this.settings };
  }

  latencyMs(): number {
    return this.settings.latencyMs ?? 0;
  }

  /** Whether this GetLogs answer is to be Incomplete; counts the injected ones down. */
  getLogsIncomplete(): boolean {
    const n = this.settings.getLogsIncomplete ?? 0;
    if (n <= 0) return false;
    this.settings = { ...this.settings, getLogsIncomplete: n - 1 };
    return true;
  }

  /** The error this PutLogs, whose uncompressed LogGroup has `groupBytes` bytes, must fail with, if the settings say so. */
  putLogsFault(groupBytes: number): SlsApiError | undefined {
    const f = this.settings;
    if (f.maxGroupBytes !== undefined && groupBytes > f.maxGroupBytes) {
      return new SlsApiError('PostBodyTooLarge', `The LogGroup is ${groupBytes} bytes; at most ${f.maxGroupBytes} are allowed (injected limit).`);
    }
    const hit = f.refuseWrites === true || (f.errorRate !== undefined && f.errorRate > 0 && Math.random() < f.errorRate);
    if (!hit) return undefined;
    const code = f.errorCode ?? 'ServerBusy';
    return new SlsApiError(code, MESSAGES[code] ?? `Injected fault ${code}.`, f.errorStatus ?? statusForCode(code));
  }
}
