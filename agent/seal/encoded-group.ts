// Finds the Logs inside a protobuf-encoded LogGroup without decoding them, so records can be cut from the bytes.
//
// Sealing works on the encoding rather than the objects: a worker thread receives one transferred buffer
// instead of a structured clone of thousands of small objects (which costs more than sealing them), a
// chunk's plaintext is a byte range plus the group's trailing fields, and a log's sealed plaintext in
// mode `log` (its Contents field alone) is a subarray. This relies on the layout encodeLogGroup writes:
// fields in field-number order, so all Logs (field 1) come first, and inside a Log: Time, Contents…, Time_ns.

export interface LogSpan {
  /** The Log's field in the group, key and length prefix included. */
  start: number;
  end: number;
  time: number;
  timeNs?: number;
  /** The Contents entries alone: what mode `log` seals. */
  contentsStart: number;
  contentsEnd: number;
}

export interface ScannedGroup {
  bytes: Uint8Array;
  logs: LogSpan[];
  /** Where the fields after the Logs (Reserved, Topic, Source, MachineUUID, LogTags) begin. */
  tailStart: number;
}

/** Thrown for bytes not laid out as encodeLogGroup writes them: a caller bug, never a property of the data. */
export class EncodedGroupLayoutError extends Error {
  override readonly name = 'EncodedGroupLayoutError';
}

const GROUP_LOGS = 0x0a;
const LOG_TIME = 0x08;
const LOG_CONTENTS = 0x12;
const LOG_TIME_NS = 0x25;

export function scanGroup(bytes: Uint8Array): ScannedGroup {
  const logs: LogSpan[] = [];
  let p = 0;
  while (p < bytes.length && bytes[p] === GROUP_LOGS) {
    const start = p;
    p = logHead(bytes, p);
    const end = logEnd;
    const span: LogSpan = { start, end, time: value, contentsStart: p, contentsEnd: p };
    while (p < end && bytes[p] === LOG_CONTENTS) {
      p = readVarint(bytes, p + 1, end);
      p += value;
    }
    span.contentsEnd = p;
    if (p < end && bytes[p] === LOG_TIME_NS && p + 5 === end) {
      span.timeNs = (bytes[p + 1] | (bytes[p + 2] << 8) | (bytes[p + 3] << 16) | (bytes[p + 4] << 24)) >>> 0;
      p = end;
    }
    if (p !== end) throw new EncodedGroupLayoutError('Log holds fields other than Time, Contents, Time_ns');
    logs.push(span);
  }
  return { bytes, logs, tailStart: p };
}

/**
 * Where each Log of a group lies and its Time, as columns: all that mode `group` needs to cut a group into chunks.
 * Unlike a ScannedGroup it holds no object per log, so sealing a batch of 4096 logs leaves next to nothing for the
 * collector; the columns are reused from call to call on this thread (see scanBounds).
 */
export interface GroupBounds {
  bytes: Uint8Array;
  count: number;
  /** Log i is bytes [starts[i], ends[i]), its key and length prefix included. */
  starts: Uint32Array;
  ends: Uint32Array;
  times: Uint32Array;
  tailStart: number;
}

// The columns scanBounds fills, kept by the thread (the bytes are not: the batch's buffer goes back to the batcher).
let starts: Uint32Array = new Uint32Array(0);
let ends: Uint32Array = new Uint32Array(0);
let times: Uint32Array = new Uint32Array(0);

/** The bounds of the Logs of `bytes`, in columns that are valid until the next call on this thread. */
export function scanBounds(bytes: Uint8Array): GroupBounds {
  let n = 0;
  let p = 0;
  while (p < bytes.length && bytes[p] === GROUP_LOGS) {
    const start = p;
    logHead(bytes, p);
    const end = logEnd;
    if (n === starts.length) {
      const grown = Math.max(1024, 2 * n);
      starts = grownCopy(starts, grown);
      ends = grownCopy(ends, grown);
      times = grownCopy(times, grown);
    }
    starts[n] = start;
    ends[n] = end;
    times[n] = value;
    n++;
    p = end;
  }
  return { bytes, count: n, starts, ends, times, tailStart: p };
}

function grownCopy(a: Uint32Array, length: number): Uint32Array {
  const out = new Uint32Array(length);
  out.set(a);
  return out;
}

/** The encoding of the group holding only Logs [from, to): a byte range followed by the group's other fields. */
export function chunkBytes(g: GroupBounds, from: number, to: number): Uint8Array {
  if (from === 0 && to === g.count) return g.bytes;
  const logs = g.bytes.subarray(g.starts[from], g.ends[to - 1]);
  const tail = g.bytes.subarray(g.tailStart);
  const out = new Uint8Array(logs.length + tail.length);
  out.set(logs);
  out.set(tail, logs.length);
  return out;
}

/** Encoded size of chunkBytes(g, from, to), without building it. */
export function chunkSize(g: GroupBounds, from: number, to: number): number {
  return g.ends[to - 1] - g.starts[from] + (g.bytes.length - g.tailStart);
}

// Scanning is synchronous: the varint just read is left here rather than in a tuple allocated per call.
let value = 0;

// Set by logHead: the end of the Log it read.
let logEnd = 0;

/** Reads the Log field at `p` through its Time (left in `value`, its end in `logEnd`): returns where its Contents begin. */
function logHead(bytes: Uint8Array, p: number): number {
  p = readVarint(bytes, p + 1, bytes.length);
  const end = p + value;
  if (end > bytes.length) throw new EncodedGroupLayoutError('Log runs past the end of the group');
  if (bytes[p] !== LOG_TIME) throw new EncodedGroupLayoutError('Log does not start with Time');
  logEnd = end;
  return readVarint(bytes, p + 1, end);
}

/** Reads a varint (at most 5 bytes: lengths and uint32s) at `p` into `value`; returns the position after it. */
function readVarint(b: Uint8Array, p: number, end: number): number {
  let v = 0;
  for (let i = 0, scale = 1; i < 5 && p < end; i++, scale *= 128) {
    const byte = b[p++];
    v += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      value = v;
      return p;
    }
  }
  throw new EncodedGroupLayoutError('bad varint');
}

// Reused by contentSpans: the scan of values (token-cache.ts) asks for one per shipped Log, thousands per batch in
// mode `log`.
let spans = new Uint32Array(0);

/**
 * The Contents ranges of logs [from, to) as pairs [contentsStart, contentsEnd] (what the addon's scans take): a view
 * valid until the next call.
 */
export function contentSpans(logs: readonly LogSpan[], from: number, to: number): Uint32Array {
  const count = to - from;
  if (spans.length < 2 * count) spans = new Uint32Array(Math.max(2 * count, 2 * spans.length));
  for (let i = 0; i < count; i++) {
    spans[2 * i] = logs[from + i].contentsStart;
    spans[2 * i + 1] = logs[from + i].contentsEnd;
  }
  return spans.subarray(0, 2 * count);
}
