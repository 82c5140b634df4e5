// Test harness: local emulators in this process, the real agent as a child process, and a reader that decrypts
// everything the Logstore holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterEach, beforeAll } from 'vitest';
import { startEmulators, type Emulators } from '../../emulators/index.js';
import { SealedLogReader, type PlainLogLine } from '../../agent/decrypt/reader.js';
import { KmsClient } from '../../agent/keys/index.js';
import { SlsClient } from '../../agent/ship/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(repoRoot, 'dist/agent/cli/main.js');

export function requireBuild(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` (npm test does) first`);
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface World {
  dir: string;
  logDir: string;
  emulators: Emulators;
  cmk: string;
  project: string;
  logstore: string;
  close(): Promise<void>;
}

export async function startWorld(o: { logstore?: string; cmkSpec?: 'Aliyun_AES_256' | 'Aliyun_SM4' } = {}): Promise<World> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'logseal-e2e-'));
  const logDir = path.join(dir, 'logs');
  await import('node:fs/promises').then((fs) => fs.mkdir(logDir));
  const emulators = await startEmulators({ dataDir: path.join(dir, 'emulator') });
  const cmk = (await emulators.kms.keyring.createKey(o.cmkSpec ?? 'Aliyun_AES_256')).keyId;
  return {
    dir,
    logDir,
    emulators,
    cmk,
    project: 'e2e-project',
    logstore: o.logstore ?? 'app',
    close: async () => {
      await emulators.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function agentConfig(w: World, over: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    sls: {
      endpoint: w.emulators.sls.url,
      project: w.project,
      logstore: w.logstore,
      accessKeyId: w.emulators.accessKeyId,
      accessKeySecret: w.emulators.accessKeySecret,
      timeout: '5s',
      createLogstore: { ttl: 7, shardCount: 2, encrypt_conf: { enable: true, encrypt_type: 'default' } },
    },
    kms: { endpoint: w.emulators.kms.url, regionId: 'cn-hangzhou', cmk: w.cmk },
    seal: { algorithm: 'AES_256_GCM', mode: 'group', threads: 1, rotate: { maxAge: '5m' } },
    batch: { maxLogs: 500, linger: '200ms' },
    inputs: [{ paths: [path.join(w.logDir, '*.log')], topic: 'e2e', startAt: 'beginning' }],
    stateDir: path.join(w.dir, 'state'),
    drain: { timeout: '10s' },
    metrics: { listen: '127.0.0.1:0' },
    log: { level: 'info' },
  };
  for (const [k, v] of Object.entries(over)) {
    base[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? { ...(base[k] as object), ...(v as object) } : v;
  }
  return base;
}

export async function writeConfig(w: World, config: Record<string, unknown>, name = 'logseal.yaml'): Promise<string> {
  const file = path.join(w.dir, name);
  await writeFile(file, stringify(config));
  return file;
}

export interface AgentProcess {
  child: ChildProcess;
  stderr(): string;
  /** JSON log records the agent wrote so far. */
  logs(): Record<string, unknown>[];
  metricsUrl(): Promise<string>;
  exited: Promise<number | null>;
}

export function spawnAgent(configFile: string, args: string[] = ['run', '-c'], o: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): AgentProcess {
  requireBuild();
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), cliPath, ...args, configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs = () =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    child,
    stderr: () => err,
    logs,
    exited,
    metricsUrl: () => waitFor('the metrics url', () => logs().find((l) => typeof l.url === 'string')?.url as string | undefined, 20_000),
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Decrypts every log in the World's Logstore; returns their `content` values. */
export async function shippedContents(w: World): Promise<string[]> {
  return (await shippedLogs(w)).map((l) => l.contents.content ?? '');
}

/** Decrypts every log in the World's Logstore. */
export async function shippedLogs(w: World): Promise<PlainLogLine[]> {
  const sls = new SlsClient({ endpoint: w.emulators.sls.url, project: w.project, credentials: { accessKeyId: w.emulators.accessKeyId, accessKeySecret: w.emulators.accessKeySecret } });
  const kms = new KmsClient({ endpoint: w.emulators.kms.url, regionId: 'cn-hangzhou', accessKeyId: w.emulators.accessKeyId, accessKeySecret: w.emulators.accessKeySecret });
  const reader = new SealedLogReader(sls, kms, w.project);
  const out: PlainLogLine[] = [];
  try {
    for await (const line of reader.read({ logstore: w.logstore, from: 'begin', to: 'end' })) out.push(line);
  } finally {
    reader.close();
    await sls.close();
  }
  return out;
}

/** Appends lines `prefix-<i>` for i in [from, to). */
export async function appendLines(file: string, prefix: string, from: number, to: number): Promise<void> {
  let text = '';
  for (let i = from; i < to; i++) text += `${prefix}-${i} ${'x'.repeat(40 + (i % 60))}\n`;
  await appendFile(file, text);
}

export function expectedLines(prefix: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`${prefix}-${i} ${'x'.repeat(40 + (i % 60))}`);
  return out;
}

/** Checks every expected line arrived; returns how many arrived more than once. */
export function compareDelivery(expected: string[], got: string[]): { missing: string[]; duplicates: number; unexpected: string[] } {
  const counts = new Map<string, number>();
  for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
  const want = new Set(expected);
  return {
    missing: expected.filter((e) => !counts.has(e)),
    duplicates: [...counts.values()].reduce((n, c) => n + (c - 1), 0),
    unexpected: [...counts.keys()].filter((k) => !want.has(k)),
  };
}

export async function stopAgent(a: AgentProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (a.child.exitCode !== null) return a.child.exitCode;
  a.child.kill(signal);
  return a.exited;
}

/**
 * The emulators and agent processes a test file starts, stopped after each test (agents with SIGKILL). Call it once at
 * the top of the file: `start` spawns an agent, `track` adopts one spawned otherwise, `world` starts the emulators.
 */
export function daemonFixture(): {
  start(configFile: string): AgentProcess;
  track(agent: AgentProcess): AgentProcess;
  world(o?: Parameters<typeof startWorld>[0]): Promise<World>;
} {
  let world: World | undefined;
  let agents: AgentProcess[] = [];
  beforeAll(() => requireBuild());
  afterEach(async () => {
    for (const a of agents) await stopAgent(a, 'SIGKILL');
    agents = [];
    await world?.close();
    world = undefined;
  });
  const track = (agent: AgentProcess): AgentProcess => {
    agents.push(agent);
    return agent;
  };
  return {
    start: (configFile) => track(spawnAgent(configFile)),
    track,
    world: async (o) => (world = await startWorld(o)),
  };
}
