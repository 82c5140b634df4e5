// What a started agent holds before it has anything to ship: the built CLI loads piscina, @noble/ciphers and node:https
// only when a worker, the js backend or an https endpoint needs them, and the Alibaba Cloud SDK (which loads node:https
// itself) only in the KMS thread, never in the main thread; with the addon built, the lz4 package not at all.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAddon } from '../../agent/native/addon.js';
import { agentConfig, appendLines, daemonFixture, shippedContents, spawnAgent, waitFor, writeConfig, type AgentProcess } from '../helpers/e2e.js';

const { track, world: startWorld } = daemonFixture();

// Written by each thread of the agent (workers inherit the preload): Node's built-in modules it loaded, and the files
// in its require cache. The main thread writes LOGSEAL_TEST_MODULES as it exits, worker N that path and .N
const PRELOAD = `
const { writeFileSync } = require('node:fs');
const { threadId } = require('node:worker_threads');
const out = process.env.LOGSEAL_TEST_MODULES + (threadId === 0 ? '' : '.' + threadId);
const write = () => writeFileSync(out, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  files: Object.keys(require.cache),
}));
// A worker may be terminated without an exit event: it writes as it goes.
if (threadId === 0) process.on('exit', write);
else setInterval(write, 20).unref();
`;

interface Loaded {
  builtins: string[];
  files: string[];
}

const spawnWithPreload = (configFile: string, preload: string, out: string): AgentProcess =>
  spawnAgent(configFile, ['run', '-c'], { nodeArgs: ['--require', preload], env: { ...process.env, LOGSEAL_TEST_MODULES: out } });

async function loadedBy(agent: AgentProcess, out: string): Promise<Loaded> {
  agent.child.kill('SIGTERM');
  expect(await agent.exited).toBe(0);
  return JSON.parse(await readFile(out, 'utf8')) as Loaded;
}

const holds = (l: Loaded, file: string) => l.files.some((f) => f.includes(file));

describe('modules an agent loads only when it needs them', () => {
  it('an agent with nothing to ship yet holds neither the SDK, piscina, @noble/ciphers nor https; shipping loads the SDK in the KMS thread only', async () => {
    const w = await startWorld();
    const preload = path.join(w.dir, 'preload.cjs');
    await writeFile(preload, PRELOAD);
    const config = await writeConfig(w, agentConfig(w));

    const idleOut = path.join(w.dir, 'idle.json');
    const idle = track(spawnWithPreload(config, preload, idleOut));
    await idle.metricsUrl();
    await new Promise((r) => setTimeout(r, 300));
    const atIdle = await loadedBy(idle, idleOut);
    expect(atIdle.builtins).toContain('http');
    for (const m of ['https', 'tls']) expect(atIdle.builtins).not.toContain(m);
    for (const f of [path.join('keys', 'alicloud-sdk.js'), path.join('node_modules', 'piscina'), path.join('node_modules', '@noble', 'ciphers')]) {
      expect(holds(atIdle, f), f).toBe(false);
    }

    // Once a batch was sealed under a data key from KMS, the same check sees node:https in a worker thread (the KMS
    // thread's SDK loads it), while the main thread still holds neither it nor the SDK.
    await appendLines(path.join(w.logDir, 'a.log'), 'lazy', 0, 20);
    const busyOut = path.join(w.dir, 'busy.json');
    const busy = track(spawnWithPreload(config, preload, busyOut));
    await waitFor('the lines shipped', async () => ((await shippedContents(w)).length >= 20 ? true : undefined));
    const afterShipping = await loadedBy(busy, busyOut);
    const workers = await Promise.all(
      (await readdir(w.dir)).filter((f) => f.startsWith('busy.json.')).map(async (f) => JSON.parse(await readFile(path.join(w.dir, f), 'utf8')) as Loaded),
    );
    expect(workers.some((t) => t.builtins.includes('https')), 'a worker thread loaded the SDK, and with it node:https').toBe(true);
    expect(holds(afterShipping, path.join('keys', 'alicloud-sdk.js'))).toBe(false);
    expect(holds(afterShipping, path.join('keys', 'kms-worker.js'))).toBe(false);
    expect(afterShipping.builtins).not.toContain('https');
    // With logseal's addon built, LZ4 blocks come from it: the lz4 package's JavaScript is not loaded at all.
    if (nativeAddon) expect(holds(afterShipping, path.join('node_modules', 'lz4')), 'the lz4 package').toBe(false);
  });
});
