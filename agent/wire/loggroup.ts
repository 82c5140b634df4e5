// The SLS LogGroup protobuf (PROTOCOLS.md): the types every stage passes around, and their codec.
import protobuf from 'protobufjs';

/** A content value is text, or raw bytes when the source was not valid UTF-8 (written verbatim). */
export type ContentValue = string | Uint8Array;

export interface LogContent {
  key: string;
  value: ContentValue;
}

export interface Log {
  /** Unix seconds. */
  time: number;
  contents: LogContent[];
  /** Nanosecond part of the time; absent when not set. */
  timeNs?: number;
}

export interface LogTag {
  key: string;
  value: string;
}

export interface LogGroup {
  logs: Log[];
  topic?: string;
  source?: string;
  machineUUID?: string;
  reserved?: string;
  logTags: LogTag[];
}

// Content.Value is declared `bytes` here: on the wire it is identical to `string` (length-delimited),
// and it lets raw line bytes pass through without a UTF-8 round trip.
const root = protobuf.Root.fromJSON({
  nested: {
    Content: { fields: { key: { type: 'string', id: 1, rule: 'required' }, value: { type: 'bytes', id: 2, rule: 'required' } } },
    Log: {
      fields: {
        time: { type: 'uint32', id: 1, rule: 'required' },
        contents: { type: 'Content', id: 2, rule: 'repeated' },
        timeNs: { type: 'fixed32', id: 4 },
      },
    },
    LogTag: { fields: { key: { type: 'string', id: 1, rule: 'required' }, value: { type: 'string', id: 2, rule: 'required' } } },
    LogGroup: {
      fields: {
        logs: { type: 'Log', id: 1, rule: 'repeated' },
        reserved: { type: 'string', id: 2 },
        topic: { type: 'string', id: 3 },
        source: { type: 'string', id: 4 },
        machineUUID: { type: 'string', id: 5 },
        logTags: { type: 'LogTag', id: 6, rule: 'repeated' },
      },
    },
    LogGroupList: { fields: { logGroupList: { type: 'LogGroup', id: 1, rule: 'repeated' } } },
  },
});

const LogGroupType = root.lookupType('LogGroup');
const LogGroupListType = root.lookupType('LogGroupList');
const textEncoder = new TextEncoder();

function toWire(group: LogGroup): unknown {
  return {
    ...group,
    logs: group.logs.map((log) => ({
      ...log,
      contents: log.contents.map((c) => ({
        key: c.key,
        value: typeof c.value === 'string' ? textEncoder.encode(c.value) : c.value,
      })),
    })),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeValue(bytes: Uint8Array): ContentValue {
  try {
    return utf8.decode(bytes);
  } catch {
    return Uint8Array.from(bytes);
  }
}

function fromWire(msg: protobuf.Message): LogGroup {
  const m = msg as unknown as {
    logs: { time: number; contents: { key: string; value: Uint8Array }[]; timeNs?: number }[];
    topic?: string;
    source?: string;
    machineUUID?: string;
    reserved?: string;
    logTags: LogTag[];
  };
  const group: LogGroup = {
    logs: m.logs.map((l) => {
      const log: Log = { time: l.time, contents: l.contents.map((c) => ({ key: c.key, value: decodeValue(c.value) })) };
      if (Object.prototype.hasOwnProperty.call(l, 'timeNs')) log.timeNs = l.timeNs;
      return log;
    }),
    logTags: m.logTags.map((t) => ({ key: t.key, value: t.value })),
  };
  for (const k of ['topic', 'source', 'machineUUID', 'reserved'] as const) {
    if (Object.prototype.hasOwnProperty.call(m, k)) group[k] = m[k];
  }
  return group;
}

export function encodeLogGroup(group: LogGroup): Uint8Array {
  return LogGroupType.encode(toWire(group) as protobuf.Message).finish();
}

/** Decodes a LogGroup; throws on malformed protobuf or missing required fields. */
export function decodeLogGroup(bytes: Uint8Array): LogGroup {
  return fromWire(LogGroupType.decode(bytes));
}

export function encodeLogGroupList(groups: LogGroup[]): Uint8Array {
  return LogGroupListType.encode({ logGroupList: groups.map(toWire) } as unknown as protobuf.Message).finish();
}

export function decodeLogGroupList(bytes: Uint8Array): LogGroup[] {
  const m = LogGroupListType.decode(bytes) as unknown as { logGroupList: protobuf.Message[] };
  return m.logGroupList.map(fromWire);
}
