// Copying into memory that may be shared (a SharedArrayBuffer): the addon's memcpy, or TypedArray set without it.
import { nativeAddon } from './addon.js';

const addon = nativeAddon?.copyBytes ? nativeAddon : undefined;

/** `src` into `out` at `pos`, which must leave room for it. */
export function copyBytes(src: Uint8Array, out: Uint8Array, pos: number): void {
  if (addon) addon.copyBytes(src, out, pos);
  else out.set(src, pos);
}
