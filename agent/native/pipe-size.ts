// A larger pipe for what `logseal decrypt` prints: the addon's F_SETPIPE_SZ, nothing without it.
import { nativeAddon } from './addon.js';

/** Asks for pipe `fd` to hold `bytes`; its capacity after, or -1 (no pipe, refused, or no addon). */
export function widenPipe(fd: number, bytes: number): number {
  return nativeAddon?.setPipeSize ? nativeAddon.setPipeSize(fd, bytes) : -1;
}
