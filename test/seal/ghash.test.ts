// GHASH backends: the native addon (PCLMULQDQ and its portable tables) and the JS GhashKey, against the GCM spec and each other.
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { selfTest } from '../../agent/seal/cipher.js';
import { GhashKey, type GhashDigest } from '../../agent/seal/ghash.js';
import { nativeAddonPath, type GhashPath, type NativeAddon } from '../../agent/native/addon.js';
import { nativeGhash } from '../../agent/seal/ghash-native.js';
import { ghashBackend, jsSm4Gcm, nativeSm4Gcm } from '../../agent/seal/sm4-gcm.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const addonPath = nativeAddonPath!;
const notBuilt = !nativeGhash;
const notBuiltReason = 'native addon not built (run node-gyp rebuild to create build/Release/logseal_native.node)';
if (notBuilt) console.warn(`ghash.test.ts: skipping the native GHASH tests: ${notBuiltReason}`);

interface AddonExports {
  init(h: Uint8Array, path?: boolean | string): ArrayBuffer;
  digest(state: ArrayBuffer, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): void;
}
/** The addon's GHASH functions themselves, for argument checks the TypeScript wrapper cannot express. */
const addon = (): AddonExports => {
  const a = createRequire(import.meta.url)(addonPath) as NativeAddon;
  return { init: a.ghashInit, digest: a.ghashDigest };
};

/** Whether this CPU runs a native path: init refuses the others with a RangeError. */
const runs = (path: GhashPath): boolean => {
  if (notBuilt) return false;
  try {
    nativeGhash!.create(new Uint8Array(16), { path });
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
    return false;
  }
};
const wideRuns = runs('vpclmul'), narrowRuns = runs('pclmul');

const implementations: [string, boolean, (h: Uint8Array) => GhashDigest][] = [
  ['JS GhashKey', false, (h) => new GhashKey(h)],
  [`native, CPU default (${nativeGhash?.backend ?? 'not built'})`, notBuilt, (h) => nativeGhash!.create(h)],
  ['native, 512-bit VPCLMULQDQ', !wideRuns, (h) => nativeGhash!.create(h, { path: 'vpclmul' })],
  ['native, 128-bit PCLMULQDQ', !narrowRuns, (h) => nativeGhash!.create(h, { path: 'pclmul' })],
  ['native, portable tables', notBuilt, (h) => nativeGhash!.create(h, { portable: true })],
];

// "The Galois/Counter Mode of Operation (GCM)" (McGrew, Viega; the GCM submission to NIST), test cases 1-4 and 14:
// H = E_K(0^128), A, C → GHASH(H, A, C).
const C3 =
  '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985';
const vectors = [
  { name: 'test case 1 (A and C empty)', h: '66e94bd4ef8a2c3b884cfa59ca342b2e', a: '', c: '', x: '00000000000000000000000000000000' },
  { name: 'test case 2 (one block)', h: '66e94bd4ef8a2c3b884cfa59ca342b2e', a: '', c: '0388dace60b6a392f328c2b971b2fe78', x: 'f38cbb1ad69223dcc3457ae5b6b0f885' },
  { name: 'test case 3 (four blocks)', h: 'b83b533708bf535d0aa6e52980d53b78', a: '', c: C3, x: '7f1b32b81b820d02614f8895ac1d4eac' },
  {
    name: 'test case 4 (AAD and a partial block)',
    h: 'b83b533708bf535d0aa6e52980d53b78',
    a: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    c: C3.slice(0, 120),
    x: '698e57f70e6ecc7fd9463b7260a9ae5f',
  },
  { name: 'test case 14 (AES-256 zero key)', h: 'dc95c078a2408989ad48a21492842087', a: '', c: 'cea7403d4d606b6e074ec5d3baf39d18', x: '83de425c5edc5d498f382c441041ca92' },
];

describe.each(implementations)('GHASH: %s', (_name, skip, make) => {
  it.skipIf(skip).each(vectors)('matches the GCM specification, $name', ({ h, a, c, x }) => {
    expect(toHex(make(hex(h)).digest(hex(a), hex(c)))).toBe(x);
  });

  it.skipIf(skip)('returns a fresh, writable array on every call', () => {
    const g = make(hex(vectors[1].h));
    const first = g.digest(new Uint8Array(0), hex(vectors[1].c));
    first.fill(0xff);
    expect(toHex(g.digest(new Uint8Array(0), hex(vectors[1].c)))).toBe(vectors[1].x);
  });

  it.skipIf(skip)('reads views at a non-zero byte offset, and only their bytes', () => {
    const v = vectors[3];
    const a = hex(v.a), c = hex(v.c);
    // Surrounding bytes that would change the hash if they were read.
    const backing = randomBytes(7 + a.length + 5 + c.length + 9);
    backing.set(a, 7);
    backing.set(c, 7 + a.length + 5);
    const aView = new Uint8Array(backing.buffer, backing.byteOffset + 7, a.length);
    const cView = backing.subarray(7 + a.length + 5, 7 + a.length + 5 + c.length);
    const hView = Buffer.concat([Buffer.from('abc'), Buffer.from(hex(v.h))]).subarray(3);
    expect(toHex(make(hView).digest(aView, cView))).toBe(v.x);
  });

  it.skipIf(skip)('refuses a hash subkey that is not 16 bytes', () => {
    expect(() => make(new Uint8Array(15))).toThrow(RangeError);
    expect(() => make(new Uint8Array(17))).toThrow(RangeError);
  });
});

describe.skipIf(notBuilt)('native GHASH against the JS GhashKey', () => {
  it('agrees on 2000 random keys, AAD of 0-80 bytes and ciphertexts up to 70 KiB', () => {
    const residues = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const h = randomBytes(16);
      const aad = randomBytes(i % 81);
      // Mostly record-sized, every tenth up to 70 KiB; (i * 7) % 300 runs through every residue mod 16.
      const ciphertext = randomBytes(i % 10 === 9 ? randomInt(70 * 1024 + 1) : (i * 7) % 300);
      residues.add(ciphertext.length % 16);
      const expected = toHex(new GhashKey(h).digest(aad, ciphertext));
      expect(toHex(nativeGhash!.create(h).digest(aad, ciphertext)), `case ${i}: AAD ${aad.length}, C ${ciphertext.length}`).toBe(expected);
      expect(toHex(nativeGhash!.create(h, { portable: true }).digest(aad, ciphertext)), `portable, case ${i}`).toBe(expected);
      if (narrowRuns) expect(toHex(nativeGhash!.create(h, { path: 'pclmul' }).digest(aad, ciphertext)), `pclmul, case ${i}`).toBe(expected);
    }
    expect(residues.size).toBe(16);
  });

  it('keeps no state between digests under one key', () => {
    const h = randomBytes(16), g = nativeGhash!.create(h), js = new GhashKey(h);
    for (let n = 0; n < 200; n += 13) {
      const aad = randomBytes(n % 40), ciphertext = randomBytes(n);
      expect(toHex(g.digest(aad, ciphertext))).toBe(toHex(js.digest(aad, ciphertext)));
    }
  });

  it('names a backend, and uses PCLMULQDQ (512-bit where it can) where the CPU has it', () => {
    expect(['vpclmul', 'pclmul', 'portable']).toContain(nativeGhash!.backend);
    if (process.arch === 'x64') {
      const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
      const wide = ['vpclmulqdq', 'avx512f', 'avx512bw'].every((flag) => new RegExp(`\\b${flag}\\b`).test(cpuinfo));
      if (/\bpclmulqdq\b/.test(cpuinfo) && /\bssse3\b/.test(cpuinfo)) expect(nativeGhash!.backend).toBe(wide ? 'vpclmul' : 'pclmul');
      expect(wideRuns).toBe(wide && nativeGhash!.backend === 'vpclmul');
    }
  });

  it('throws on misuse instead of crashing', () => {
    const a = addon();
    const state = a.init(randomBytes(16));
    const out = new Uint8Array(16), none = new Uint8Array(0);
    expect(() => a.init('0123456789abcdef' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => a.init(new Uint16Array(8) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => a.init(randomBytes(16), 1 as unknown as boolean)).toThrow(TypeError);
    expect(() => a.init(randomBytes(16), 'avx9000')).toThrow(TypeError);
    expect(() => (a.init as () => ArrayBuffer)()).toThrow(TypeError);
    expect(() => a.digest(state, none, none, new Uint8Array(15))).toThrow(RangeError);
    expect(() => a.digest(state, none, none, new Uint8Array(17))).toThrow(RangeError);
    expect(() => a.digest(state, [] as unknown as Uint8Array, none, out)).toThrow(TypeError);
    expect(() => a.digest(state, none, new DataView(new ArrayBuffer(4)) as unknown as Uint8Array, out)).toThrow(TypeError);
    expect(() => (a.digest as (s: ArrayBuffer) => void)(state)).toThrow(TypeError);
    // States not made by init(): wrong type, wrong size, right size but not filled by init().
    expect(() => a.digest(new Uint8Array(state) as unknown as ArrayBuffer, none, none, out)).toThrow(TypeError);
    expect(() => a.digest(state.slice(1), none, none, out)).toThrow(RangeError);
    expect(() => a.digest(new ArrayBuffer(state.byteLength), none, none, out)).toThrow(RangeError);
    const forged = new Uint8Array(state.slice(0));
    forged[4] ^= 0x40; // the kind field
    expect(() => a.digest(forged.buffer, none, none, out)).toThrow(RangeError);
    // After all that, the real state still works.
    a.digest(a.init(hex(vectors[1].h)), none, hex(vectors[1].c), out);
    expect(toHex(out)).toBe(vectors[1].x);
  });

  it('writes the digest through an output view at a byte offset, leaving its neighbours alone', () => {
    const a = addon();
    const backing = new Uint8Array(40).fill(0xaa);
    a.digest(a.init(hex(vectors[1].h)), new Uint8Array(0), hex(vectors[1].c), backing.subarray(11, 27));
    expect(toHex(backing.subarray(11, 27))).toBe(vectors[1].x);
    expect([...backing.subarray(0, 11), ...backing.subarray(27)].every((b) => b === 0xaa)).toBe(true);
  });

  it('loads and runs in a worker thread too, as seal workers need', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const a = require(workerData.addonPath);
      const out = new Uint8Array(16);
      a.ghashDigest(a.ghashInit(Buffer.from(workerData.h, 'hex')), new Uint8Array(0), Buffer.from(workerData.c, 'hex'), out);
      parentPort.postMessage(Buffer.from(out).toString('hex'));`;
    const worker = new Worker(code, { eval: true, workerData: { addonPath, h: vectors[1].h, c: vectors[1].c } });
    try {
      const result = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(result).toBe(vectors[1].x);
    } finally {
      await worker.terminate();
    }
  });

  it('is what SM4-GCM uses, and both SM4-GCM backends still pass the RFC 8998 known answer', () => {
    expect(ghashBackend).toBe(nativeGhash!.backend);
    expect(selfTest(nativeSm4Gcm)).toBe(true);
    expect(selfTest(jsSm4Gcm)).toBe(true);
  });
});
