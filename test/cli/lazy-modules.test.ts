// What a started agent holds before it has anything to ship: the built CLI loads the Alibaba Cloud SDK (its own
// bundle), piscina, @noble/ciphers and node:https only when a batch, a worker, the js backend or an https endpoint
// needs them (the SDK itself loads node:https).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentConfig, appendLines, daemonFixture, shippedContents, spawnAgent, waitFor, writeConfig, type AgentProcess } from '../helpers/e2e.js';

const { track, world: startWorld } = daemonFixture();

// Written by the agent process as it exits: Node's built-in modules it loaded, and the files in its require cache.
const PRELOAD = `
const { writeFileSync } = require('node:fs');
process.on('exit', () => writeFileSync(process.env.LOGSEAL_TEST_MODULES, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  files: Object.keys(require.cache),
})));
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
  it('an agent with nothing to ship yet holds neither the SDK, piscina, @noble/ciphers nor https; shipping loads the SDK', async () => {
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

    // The same check sees the SDK once a batch was sealed under a data key from KMS.
    await appendLines(path.join(w.logDir, 'a.log'), 'lazy', 0, 20);
    const busyOut = path.join(w.dir, 'busy.json');
    const busy = track(spawnWithPreload(config, preload, busyOut));
    await waitFor('the lines shipped', async () => ((await shippedContents(w)).length >= 20 ? true : undefined));
    const afterShipping = await loadedBy(busy, busyOut);
    expect(holds(afterShipping, path.join('keys', 'alicloud-sdk.js'))).toBe(true);
  });
});
