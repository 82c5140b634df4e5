// Byte arrays handed between threads by transfer, without detaching memory that other buffers share.

/**
 * `bytes` itself when its ArrayBuffer can be moved to another thread, else a copy that can. Node serves
 * small Buffers from shared slabs of Buffer.poolSize bytes; moving one would detach every neighbour in it.
 * Anything in a larger ArrayBuffer was allocated on its own.
 */
export function transferable(bytes: Uint8Array): Uint8Array {
  return bytes.buffer.byteLength > Buffer.poolSize ? bytes : Uint8Array.from(bytes);
}
