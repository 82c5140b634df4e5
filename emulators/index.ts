// Starts the local KMS and SLS together, with SLS using the KMS for BYOK encryption at rest, as `logseal emulator` does.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { atRestKms, startKmsEmulator, type KmsEmulator } from './kms/index.js';
import { startSlsEmulator, type SlsEmulator } from './sls/index.js';

export interface EmulatorsOptions {
  dataDir: string;
  slsPort?: number;
  kmsPort?: number;
  host?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
}

export interface Emulators {
  sls: SlsEmulator;
  kms: KmsEmulator;
  accessKeyId: string;
  accessKeySecret: string;
  /** The one JSON line `logseal emulator` prints when ready. */
  readyLine(): string;
  close(): Promise<void>;
}

/** Keys come from the options, else from LOGSEAL_EMULATOR_ACCESS_KEY_ID/_SECRET, else are generated. */
export function emulatorCredentials(o: Pick<EmulatorsOptions, 'accessKeyId' | 'accessKeySecret'>): { accessKeyId: string; accessKeySecret: string } {
  return {
    accessKeyId: o.accessKeyId ?? process.env.LOGSEAL_EMULATOR_ACCESS_KEY_ID ?? `LTAI${randomBytes(10).toString('hex')}`,
    accessKeySecret: o.accessKeySecret ?? process.env.LOGSEAL_EMULATOR_ACCESS_KEY_SECRET ?? randomBytes(20).toString('base64url'),
  };
}

export async function startEmulators(o: EmulatorsOptions): Promise<Emulators> {
  const { accessKeyId, accessKeySecret } = emulatorCredentials(o);
  const host = o.host ?? '127.0.0.1';
  // The KMS keeps its keys under <dataDir>/kms itself.
  const kms = await startKmsEmulator({ dataDir: o.dataDir, port: o.kmsPort ?? 0, host, accessKeyId, accessKeySecret });
  let sls: SlsEmulator;
  try {
    // SLS reaches the CMK in-process, as the real service does through its RAM role.
    sls = await startSlsEmulator({
      dataDir: path.join(o.dataDir, 'sls'),
      port: o.slsPort ?? 0,
      host,
      accessKeyId,
      accessKeySecret,
      atRestKms: atRestKms(kms.keyring),
    });
  } catch (err) {
    await kms.close();
    throw err;
  }
  return {
    sls,
    kms,
    accessKeyId,
    accessKeySecret,
    readyLine: () => JSON.stringify({ sls: sls.url, kms: kms.url, accessKeyId, accessKeySecret }),
    close: async () => {
      await sls.close();
      await kms.close();
    },
  };
}
