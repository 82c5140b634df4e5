// Consumer group calls: Create/Update/Delete/ListConsumerGroup, HeartBeat, UpdateCheckPoint and GetCheckPoint.
import { OK_EMPTY, type ApiRequest, type EmulatorState, type Reply } from './context.js';
import { SlsApiError } from './errors.js';
import { jsonBody } from './logstore-routes.js';

function groupsOf(state: EmulatorState, req: ApiRequest, logstore: string) {
  return state.catalog.get(req.project, logstore).consumerGroups;
}

function flag(req: ApiRequest, name: string): boolean {
  const v = req.query[name];
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw new SlsApiError('ParameterInvalid', `${name} must be true or false, got ${JSON.stringify(v)}.`);
}

function consumerOf(req: ApiRequest, required: boolean): string | undefined {
  const consumer = req.query.consumer;
  if (consumer === undefined || consumer === '') {
    if (required) throw new SlsApiError('ParameterInvalid', 'consumer is required.');
    return undefined;
  }
  if (consumer.length > 256) throw new SlsApiError('ParameterInvalid', 'consumer is longer than 256 characters.');
  return consumer;
}

/** `GET /logstores/<ls>/consumergroups`: `[{name, timeout, order}]`. */
export function listConsumerGroups(state: EmulatorState, req: ApiRequest, logstore: string): Reply {
  return { status: 200, json: groupsOf(state, req, logstore).list() };
}

/** `POST /logstores/<ls>/consumergroups` `{consumerGroup, timeout, order}`. */
export async function createConsumerGroup(state: EmulatorState, req: ApiRequest, logstore: string): Promise<Reply> {
  await groupsOf(state, req, logstore).create(jsonBody(req));
  return OK_EMPTY;
}

/** `PUT /logstores/<ls>/consumergroups/<g>` `{order, timeout?}`. */
export async function updateConsumerGroup(state: EmulatorState, req: ApiRequest, logstore: string, group: string): Promise<Reply> {
  await groupsOf(state, req, logstore).update(group, jsonBody(req));
  return OK_EMPTY;
}

export async function deleteConsumerGroup(state: EmulatorState, req: ApiRequest, logstore: string, group: string): Promise<Reply> {
  await groupsOf(state, req, logstore).delete(group);
  return OK_EMPTY;
}

/** `GET /logstores/<ls>/consumergroups/<g>[?shard=<n>]`: `[{shard, checkpoint, updateTime, consumer}]`. */
export function getCheckpoints(state: EmulatorState, req: ApiRequest, logstore: string, group: string): Reply {
  const text = req.query.shard;
  let shard: number | undefined;
  if (text !== undefined && text !== '-1') {
    if (!/^\d{1,9}$/.test(text)) throw new SlsApiError('ParameterInvalid', `shard must be a shard id, got ${JSON.stringify(text)}.`);
    shard = Number(text);
  }
  return { status: 200, json: groupsOf(state, req, logstore).checkpoints(group, shard) };
}

/** `POST /logstores/<ls>/consumergroups/<g>?type=heartbeat|checkpoint&consumer=<c>[&forceSuccess=<bool>]`. */
export async function postToConsumerGroup(state: EmulatorState, req: ApiRequest, logstore: string, group: string): Promise<Reply> {
  const groups = groupsOf(state, req, logstore);
  if (req.query.type === 'heartbeat') {
    // An empty body is read as an empty shard list.
    const held = req.body.length === 0 ? [] : jsonBody(req);
    return { status: 200, json: groups.heartbeat(group, consumerOf(req, true)!, held) };
  }
  if (req.query.type === 'checkpoint') {
    await groups.updateCheckpoint(group, consumerOf(req, false), flag(req, 'forceSuccess'), jsonBody(req));
    return OK_EMPTY;
  }
  throw new SlsApiError('ParameterInvalid', 'type must be heartbeat or checkpoint.');
}
