// Benchmark: lines lost and sent twice when the agent is killed with SIGKILL again and again while it ships.
// Run: npm run bench:kills [-- --kills 20 --rate 5000 --seed 1 --min-delay-ms 0 --max-delay-ms 2000]
// A writer appends numbered lines to one file at `--rate` lines/s; the agent (`node dist/agent/cli/main.js run`, real
// processes, emulators in this process) is started, killed with SIGKILL at a random moment once it has shipped again,
// and restarted, `--kills` times; the last run ships the rest and stops with SIGTERM. Then the Logstore is decrypted and
// every line counted. Per kill it also prints the lines the agent had acknowledged (its metrics, read just before the
// kill) but not yet checkpointed (the saved offset, read just after): the share of the duplicates that a stale
// checkpoint explains; the rest were in flight (stored by SLS, acknowledgement not yet processed).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  agentConfig,
  appendLines,
  compareDelivery,
  expectedLines,
  shippedContents,
  spawnAgent,
  startWorld,
  stopAgent,
  waitFor,
  writeConfig,
  type AgentProcess,
} from '../test/helpers/e2e.js';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    rate: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '1' },
    'min-delay-ms': { type: 'string', default: '0' },
    'max-delay-ms': { type: 'string', default: '2000' },
  },
});
const KILLS = Number(args.kills);
const RATE = Number(args.rate);
const MIN_DELAY_MS = Number(args['min-delay-ms']);
const MAX_DELAY_MS = Number(args['max-delay-ms']);
const PREFIX = 'k';
const TICK_MS = 20;

/** Deterministic delays for a repeatable sequence of kills (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Byte offset just past line i, for the lines appendLines writes. */
class LineOffsets {
  readonly ends: number[] = [];
  extend(to: number): void {
    for (let i = this.ends.length; i < to; i++) {
      const len = `${PREFIX}-${i} `.length + 40 + (i % 60) + 1;
      this.ends.push((this.ends[i - 1] ?? 0) + len);
    }
  }
  /** Lines wholly below `offset`. */
  linesBelow(offset: number): number {
    let lo = 0, hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function checkpointOffset(stateDir: string): Promise<number> {
  try {
    const saved = JSON.parse(await readFile(path.join(stateDir, 'checkpoints.json'), 'utf8')) as { files: { offset: number }[] };
    return saved.files[0]?.offset ?? 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const w = await startWorld();
  const file = path.join(w.logDir, 'app.log');
  const config = agentConfig(w, { batch: { maxLogs: 4096, linger: '200ms' }, log: { level: 'info' } });
  const stateDir = config.stateDir as string;
  const configFile = await writeConfig(w, config);
  const rand = random(Number(args.seed));
  const offsets = new LineOffsets();
  let written = 0;
  let writing = Promise.resolve();
  const writer = setInterval(() => {
    const to = written + Math.round((RATE * TICK_MS) / 1000);
    writing = writing.then(() => appendLines(file, PREFIX, written, to)).then(() => {
      offsets.extend(to);
      written = to;
    });
  }, TICK_MS);
  let staleTotal = 0;
  let agent: AgentProcess | undefined;
  try {
    console.log(`kills: ${KILLS}, writer ${RATE} lines/s, kill ${MIN_DELAY_MS}-${MAX_DELAY_MS} ms after the run's first new PutLogs, seed ${args.seed}`);
    console.log('kill  delay ms  shipped by this run  acknowledged, not checkpointed');
    for (let k = 1; k <= KILLS; k++) {
      const checkpointAtStart = offsets.linesBelow(await checkpointOffset(stateDir));
      const before = w.emulators.sls.stats().putLogs;
      agent = spawnAgent(configFile);
      const url = await agent.metricsUrl();
      await waitFor('the agent to ship', () => w.emulators.sls.stats().putLogs > before + 1, 30_000, 5);
      const delay = MIN_DELAY_MS + rand() * (MAX_DELAY_MS - MIN_DELAY_MS);
      await new Promise((r) => setTimeout(r, delay));
      const acked = await metric(url, 'logseal_lines_shipped_total').catch(() => 0);
      agent.child.kill('SIGKILL');
      await agent.exited;
      const checkpointed = offsets.linesBelow(await checkpointOffset(stateDir)) - checkpointAtStart;
      const stale = Math.max(0, acked - checkpointed);
      staleTotal += stale;
      console.log(`${String(k).padStart(4)}  ${String(Math.round(delay)).padStart(8)}  ${String(acked).padStart(19)}  ${String(stale).padStart(30)}`);
    }
    clearInterval(writer);
    await writing;
    const size = (await stat(file)).size;
    agent = spawnAgent(configFile);
    await waitFor('every line to be checkpointed', async () => (await checkpointOffset(stateDir)) >= size, 120_000, 50);
    const code = await stopAgent(agent);
    if (code !== 0) throw new Error(`the last run exited with ${code}`);
    const got = await shippedContents(w);
    const d = compareDelivery(expectedLines(PREFIX, 0, written), got);
    const pct = (n: number) => ((100 * n) / written).toFixed(2);
    console.log(`\nlines written        ${written}`);
    console.log(`lines in the Logstore ${got.length}`);
    console.log(`lost                 ${d.missing.length}`);
    console.log(`duplicated           ${d.duplicates} (${pct(d.duplicates)} % of lines written)`);
    console.log(`  of which acknowledged but not yet checkpointed at the kill: ~${staleTotal} (${pct(staleTotal)} %)`);
    console.log(`unexpected           ${d.unexpected.length}`);
    console.log(`target: duplicates <= 1 %, 0 lost → ${d.missing.length === 0 && d.duplicates <= written / 100 ? 'met' : 'NOT met'}`);
  } finally {
    clearInterval(writer);
    if (agent) await stopAgent(agent, 'SIGKILL');
    await w.close();
  }
}

main().catch((err: unknown) => {
  console.error(`kills: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}`);
  process.exit(2);
});
