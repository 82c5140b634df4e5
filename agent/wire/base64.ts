// base64 (RFC 4648, with padding) written as ASCII bytes into a buffer, for sealed records that go straight into a
// protobuf body: no JavaScript string is built, measured, flattened and copied again on the way.
import { nativeAddon } from '../native/addon.js';

/** Characters of the base64 text of `n` bytes. */
export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}

type Encode = (src: Uint8Array, out: Uint8Array, pos: number) => number;

const encodeJs: Encode = (src, out, pos) => {
  const text = Buffer.from(src.buffer, src.byteOffset, src.byteLength).toString('base64');
  return pos + Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(text, pos, text.length, 'latin1');
};

/** The addon's encoder when it is built and writes what Buffer writes for every byte value and tail length. */
const encodeNative: Encode | undefined = (() => {
  const encode = nativeAddon?.base64Encode;
  if (!encode) return undefined;
  const sample = Uint8Array.from({ length: 258 }, (_, i) => (i * 167) & 255);
  for (const n of [256, 257, 258]) {
    const src = sample.subarray(0, n);
    const out = Buffer.alloc(base64Length(n));
    if (encode(src, out, 0) !== out.length || out.toString('latin1') !== Buffer.from(src).toString('base64')) return undefined;
  }
  return encode;
})();

/** Which encoder writeBase64 uses: 'native' (the addon) or 'js' (Buffer). */
export const base64Backend: 'native' | 'js' = encodeNative ? 'native' : 'js';

const carry = new Uint8Array(3);

/**
 * Writes the base64 of `parts`, as if they were one byte array, at `pos` in `out`, which must have
 * base64Length(total) bytes of room; returns the position after the text. `backend` is for tests.
 */
export function writeBase64(parts: readonly Uint8Array[], out: Uint8Array, pos: number, backend: 'native' | 'js' = base64Backend): number {
  const encode = backend === 'native' && encodeNative ? encodeNative : encodeJs;
  let total = 0;
  for (const p of parts) total += p.length;
  if (pos + base64Length(total) > out.length) throw new RangeError('base64: output has no room for the text');
  let held = 0; // bytes of an unfinished 3-byte group carried from one part into the next
  for (const part of parts) {
    let from = 0;
    if (held > 0) {
      while (held < 3 && from < part.length) carry[held++] = part[from++];
      if (held < 3) continue;
      pos = encode(carry, out, pos);
      held = 0;
    }
    const whole = from + Math.floor((part.length - from) / 3) * 3;
    if (whole > from) pos = encode(part.subarray(from, whole), out, pos);
    for (let i = whole; i < part.length; i++) carry[held++] = part[i];
  }
  if (held > 0) pos = encode(carry.subarray(0, held), out, pos);
  return pos;
}
