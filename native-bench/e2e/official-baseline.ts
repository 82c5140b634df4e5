// Reference run in its own process: what a user would write without logseal — read the files and ship them unencrypted
// with the official @alicloud/log client (postLogStoreLogs, 4096 lines per LogGroup) to the emulator.
// Usage (spawned by native-bench/e2e.ts): node [--import tsx] official-baseline.ts '<json BaselineRequest>'   → one JSON line
import { closeSync, openSync, readSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import type { LookupFunction } from 'node:net';

export interface BaselineRequest {
  files: string[];
  /** Emulator SLS URL, http://127.0.0.1:<port>. */
  sls: string;
  accessKeyId: string;
  accessKeySecret: string;
  project: string;
  logstore: string;
  inFlight: number;
}

export interface BaselineResult {
  bytes: number;
  lines: number;
  groups: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

interface OfficialClient {
  createLogStore(project: string, logstore: string, data: { ttl: number; shardCount: number }, options?: object): Promise<unknown>;
  postLogStoreLogs(
    project: string,
    logstore: string,
    data: { logs: { timestamp: number; content: Record<string, string> }[]; topic?: string; source?: string; tags?: Record<string, string>[] },
    options?: object,
  ): Promise<unknown>;
}

// The client is CommonJS without type declarations.
const Client = createRequire(import.meta.url)('@alicloud/log') as new (c: { accessKeyId: string; accessKeySecret: string; endpoint: string }) => OfficialClient;

/** The client addresses `<project>.<endpoint>`; every name resolves to the emulator instead. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

const GROUP_LINES = 4096;
const CHUNK = 1 << 20;

/** Lines of every file, 4096 at a time, read in 1 MiB chunks (a line cut by a chunk border is carried as bytes). */
function* groupsOf(files: string[], stats: { bytes: number; lines: number }): Generator<string[]> {
  const buf = Buffer.allocUnsafe(CHUNK);
  let group: string[] = [];
  for (const file of files) {
    const fd = openSync(file, 'r');
    let carry = Buffer.alloc(0);
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, CHUNK, null);
        if (n === 0) break;
        stats.bytes += n;
        const data = buf.subarray(0, n);
        const end = data.lastIndexOf(10);
        if (end < 0) {
          carry = Buffer.concat([carry, data]);
          continue;
        }
        const parts = Buffer.concat([carry, data.subarray(0, end + 1)]).toString('utf8').split('\n');
        carry = Buffer.from(data.subarray(end + 1));
        parts.pop();
        for (const line of parts) {
          group.push(line);
          stats.lines++;
          if (group.length === GROUP_LINES) {
            yield group;
            group = [];
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  if (group.length > 0) yield group;
}

async function run(req: BaselineRequest): Promise<BaselineResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: req.inFlight, lookup: toLoopback });
  const client = new Client({ accessKeyId: req.accessKeyId, accessKeySecret: req.accessKeySecret, endpoint: `http://sls.emulator.test:${new URL(req.sls).port}` });
  const options = { agent, timeout: 60_000 };
  await client.createLogStore(req.project, req.logstore, { ttl: 7, shardCount: 2 }, options);

  const stats = { bytes: 0, lines: 0 };
  let groups = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const source = groupsOf(req.files, stats);
  const lane = async (): Promise<void> => {
    for (;;) {
      const next = source.next();
      if (next.done) return;
      const timestamp = Math.floor(Date.now() / 1000);
      await client.postLogStoreLogs(
        req.project,
        req.logstore,
        { topic: 'bench', source: '10.0.0.8', tags: [{ env: 'bench' }], logs: next.value.map((line) => ({ timestamp, content: { content: line } })) },
        options,
      );
      groups++;
    }
  };
  await Promise.all(Array.from({ length: req.inFlight }, lane));
  const cpu = process.cpuUsage(cpu0);
  const wallSeconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return { ...stats, groups, wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

process.stdout.write(`${JSON.stringify(await run(JSON.parse(process.argv[2]!) as BaselineRequest))}\n`);
