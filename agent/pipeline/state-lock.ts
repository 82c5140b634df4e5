// One agent per state directory: two agents sharing checkpoints and a spool would ship lines twice or lose them.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class StateDirInUseError extends Error {
  override readonly name = 'StateDirInUseError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<stateDir>/lock`; a lock left by a process that no longer runs (kill -9) is taken over. */
export async function lockStateDir(stateDir: string): Promise<() => Promise<void>> {
  const file = path.join(stateDir, 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new StateDirInUseError(`stateDir ${stateDir} is in use by another logseal agent (pid ${pid})`);
    }
    await rm(file, { force: true });
  }
}
