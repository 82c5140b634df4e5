// What /proc says about another process: CPU seconds (user+sys, all threads) and resident memory, for the agent and the emulator.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`, almost always 100). */
export function clockTicks(): number {
  if (ticks === undefined) {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    ticks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticks;
}

/** User + system CPU seconds the process used so far, all its threads together. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; the fields after its last ')' start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** One thread's user + system CPU seconds (/proc/<pid>/task/<tid>/stat). */
export interface ThreadCpu {
  tid: number;
  cpuSeconds: number;
}

/**
 * CPU per thread, in order of creation (thread id). Node names none of its threads, so which is which is inferred:
 * the first is the main thread; in Node 20 the next four are V8's platform workers (garbage collection and
 * compilation helpers), created at start-up; the libuv pool and the seal workers come later.
 */
export function threadCpu(pid: number): ThreadCpu[] {
  const out: ThreadCpu[] = [];
  for (const name of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${name}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({ tid: Number(name), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicks() });
  }
  return out.sort((a, b) => a.tid - b.tid);
}

export interface Memory {
  /** VmRSS: resident now. */
  rssBytes: number;
  /** VmHWM: the highest resident size the process reached. */
  peakRssBytes: number;
  /** RssFile: resident pages of mapped files (the node binary's code and data, shared libraries, addons). */
  rssFileBytes: number;
  /** RssAnon: resident anonymous memory (JavaScript heaps, malloc, thread stacks): what the process holds alone. */
  rssAnonBytes: number;
}

export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM'), rssFileBytes: kib('RssFile'), rssAnonBytes: kib('RssAnon') };
}
