// Logstore management calls: CreateLogStore, GetLogStore, UpdateLogStore, DeleteLogStore, ListLogStores, ListShards.
import { SlsApiError } from './errors.js';
import { OK_EMPTY, type ApiRequest, type EmulatorState, type Reply } from './context.js';
import { parseCreateBody } from './logstore-config.js';

/** The request body as JSON; the service wants `Content-Type: application/json` on it. */
export function jsonBody(req: ApiRequest): unknown {
  const type = req.headers['content-type'];
  if (req.body.length === 0) throw new SlsApiError('ParameterInvalid', 'request body must be a JSON object.');
  if (type === undefined) throw new SlsApiError('MissingContentType', 'Content-Type does not exist in http header when body is not empty.');
  if (type.split(';')[0]!.trim() !== 'application/json') throw new SlsApiError('InvalidContentType', `Content-Type ${type} is unsupported.`);
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw new SlsApiError('PostBodyInvalid', 'request body is not valid JSON.');
  }
}

export function listLogstores(state: EmulatorState, req: ApiRequest): Reply {
  const names = state.catalog.list(req.project);
  return { status: 200, json: { count: names.length, total: names.length, logstores: names } };
}

export async function createLogstore(state: EmulatorState, req: ApiRequest): Promise<Reply> {
  await state.catalog.create(req.project, parseCreateBody(jsonBody(req)));
  return OK_EMPTY;
}

export function getLogstore(state: EmulatorState, req: ApiRequest, name: string): Reply {
  return { status: 200, json: state.catalog.get(req.project, name).describe() };
}

export async function updateLogstore(state: EmulatorState, req: ApiRequest, name: string): Promise<Reply> {
  await state.catalog.update(req.project, name, jsonBody(req));
  return OK_EMPTY;
}

export async function deleteLogstore(state: EmulatorState, req: ApiRequest, name: string): Promise<Reply> {
  await state.catalog.delete(req.project, name);
  return OK_EMPTY;
}

export function listShards(state: EmulatorState, req: ApiRequest, name: string): Reply {
  return { status: 200, json: state.catalog.get(req.project, name).describeShards() };
}
