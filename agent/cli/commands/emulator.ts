// `logseal emulator`: the local KMS and SLS on loopback, until Ctrl-C or SIGTERM.
import path from 'node:path';
import { startEmulators } from '../../../emulators/index.js';
import { UsageError } from '../exit.js';

export interface EmulatorFlags {
  data?: string;
  slsPort?: string;
  kmsPort?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
}

export function parsePort(value: string | undefined, flag: string): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag}: expected a port number 0-65535, got "${value}"`);
  return n;
}

export async function emulatorCommand(flags: EmulatorFlags): Promise<void> {
  if ((flags.accessKeyId === undefined) !== (flags.accessKeySecret === undefined)) {
    throw new UsageError('--access-key-id and --access-key-secret go together');
  }
  const emulators = await startEmulators({
    dataDir: path.resolve(flags.data ?? '.logseal/emulator'),
    slsPort: parsePort(flags.slsPort, '--sls-port'),
    kmsPort: parsePort(flags.kmsPort, '--kms-port'),
    ...(flags.accessKeyId !== undefined ? { accessKeyId: flags.accessKeyId, accessKeySecret: flags.accessKeySecret! } : {}),
  });
  process.stdout.write(`${emulators.readyLine()}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulators.close();
}
