// The inputs the compression benchmarks share: plaintext LogGroups of the e2e benchmark's generated lines, and the
// PutLogs bodies the agent makes of them once sealed.
import { randomBytes } from 'node:crypto';
import { cipherFor } from '../agent/seal/cipher.js';
import { sealEncodedGroup, type DataKey } from '../agent/seal/record.js';
import { encodeLogGroup, type LogGroup } from '../agent/wire/loggroup.js';
import { LineSource } from './e2e/dataset.js';

export const GROUPS = 8;
const LINES = 4096;

/** GROUPS encoded LogGroups of LINES generated lines each, the same every run (seeded). */
export function plaintextGroups(): Uint8Array[] {
  return Array.from({ length: GROUPS }, (_, g) => {
    const source = new LineSource(1000 + g);
    const group: LogGroup = {
      topic: 'bench',
      source: '10.0.0.8',
      logTags: [{ key: '__hostname__', value: 'bench-host' }, { key: '__path__', value: `/var/log/app/app-${g}.log` }],
      logs: Array.from({ length: LINES }, (_, i) => ({ time: 1_763_924_400 + (i >> 8), contents: [{ key: 'content', value: Buffer.from(source.next().text) }] })),
    };
    return encodeLogGroup(group);
  });
}

/** Each group sealed under a fresh AES key as the agent ships it (the PutLogs body before body compression). */
export function sealedBodies(plain: Uint8Array[], mode: 'group' | 'log', zip: 'lz4' | 'none' = 'lz4'): Uint8Array[] {
  const key: DataKey = { algorithm: 'AES_256_GCM', plaintext: randomBytes(32), cmkId: 'key-bench', blob: 'YmxvYi1mb3ItYmVuY2htYXJr' };
  const cipher = cipherFor('AES_256_GCM');
  return plain.map((p) => encodeLogGroup(sealEncodedGroup(p, key, { project: 'bench', logstore: 'e2e', mode, zip }, cipher).shipped));
}
