// The emulator's own control endpoints for chaos runs against a separately started emulator: /_emulator/faults and /_emulator/stats.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SlsApiError } from './errors.js';
import type { EmulatorState, Reply } from './context.js';
import { parseFaultSettings } from './faults.js';

function authorised(headers: IncomingHttpHeaders, secret: string): boolean {
  const given = headers['x-emulator-secret'];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Authorised by `x-emulator-secret: <accessKeySecret>`; no SLS signature, so plain curl works. */
export function handleControl(state: EmulatorState, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Reply {
  if (!authorised(headers, state.creds.accessKeySecret)) {
    throw new SlsApiError('Unauthorized', 'x-emulator-secret is missing or wrong.');
  }
  switch (`${method} ${path}`) {
    case 'GET /_emulator/faults':
      return { status: 200, json: state.faults.current() };
    case 'PUT /_emulator/faults': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new SlsApiError('PostBodyInvalid', 'fault settings must be a JSON object.');
      }
      state.faults.set(parseFaultSettings(parsed));
      return { status: 200, json: state.faults.current() };
    }
    case 'DELETE /_emulator/faults':
      state.faults.clear();
      return { status: 200, json: state.faults.current() };
    case 'GET /_emulator/stats':
      return { status: 200, json: { putLogs: state.stats.putLogs, rejected: { ...state.stats.rejected } } };
    default:
      throw new SlsApiError('NotFound', `${method} ${path} is not an emulator endpoint.`);
  }
}
