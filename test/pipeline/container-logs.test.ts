// Container logs end to end: the real agent reads kubelet-style CRI and Docker files, ships them sealed to the local
// SLS over HTTP, and the decrypted logs carry the joined lines, the runtime's time and stream, and the pod metadata.
import { appendFile, mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import {
  agentConfig,
  daemonFixture,
  shippedLogs,
  waitFor,
  writeConfig,
} from '../helpers/e2e.js';

const { start, world: startTrackedWorld } = daemonFixture();

const T = '2024-05-01T10:00:00.123456789Z';

it('ships CRI and Docker container logs with partial lines joined and pod metadata, counting malformed lines; old files wait, rates hold', async () => {
  const w = (await startTrackedWorld());
  const pods = path.join(w.logDir, 'pods');
  const criDir = path.join(pods, 'shop_web-0_5e1c9a7e-1111-2222-3333-444455556666', 'nginx');
  const dockerDir = path.join(pods, 'batch_job-7_5e1c9a7e-7777-8888-9999-000011112222', 'worker');
  await mkdir(criDir, { recursive: true });
  await mkdir(dockerDir, { recursive: true });
  const long = 'y'.repeat(20_000); // longer than the runtimes' 16 KiB: written as partial lines
  await writeFile(
    path.join(criDir, '0.log'),
    `${T} stdout F GET /index.html 200\n${T} stderr P ${long.slice(0, 16_384)}\n${T} stderr F ${long.slice(16_384)}\nnot a cri line\n`,
  );
  const rec = (log: string, stream = 'stdout') => `${JSON.stringify({ log, stream, time: T })}\n`;
  await writeFile(path.join(dockerDir, '0.log'), rec('job started\n') + rec(long.slice(0, 16_384), 'stderr') + rec(`${long.slice(16_384)}\n`, 'stderr'));
  // A pod that stopped writing two days ago: passed over by ignoreOlder until it writes again.
  const oldDir = path.join(pods, 'shop_old-0_5e1c9a7e-aaaa-bbbb-cccc-ddddeeeeffff', 'app');
  await mkdir(oldDir, { recursive: true });
  const oldFile = path.join(oldDir, '0.log');
  await writeFile(oldFile, `${T} stdout F from two days ago\n`);
  const twoDaysAgo = Date.now() / 1000 - 2 * 86_400;
  await utimes(oldFile, twoDaysAgo, twoDaysAgo);
  const input = { paths: [path.join(pods, '*/*/*.log')], topic: 'k8s', startAt: 'beginning', format: 'auto', ignoreOlder: '1h', rateLimit: { bytesPerSecond: '32KiB' } };
  const config = agentConfig(w, { inputs: [input] });
  const agent = start(await writeConfig(w, config));

  const logs = await waitFor('5 logs in the Logstore', async () => {
    const got = await shippedLogs(w);
    return got.length >= 5 ? got : undefined;
  });
  const shown = logs.map((l) => {
    const c = l.contents;
    return [c._namespace_, c._pod_name_, c._container_name_, c._stream_ ?? '-', c.content === long ? 'the long line' : c.content].join(' ');
  });
  expect(shown.sort()).toEqual([
    'batch job-7 worker stderr the long line',
    'batch job-7 worker stdout job started',
    'shop web-0 nginx - not a cri line',
    'shop web-0 nginx stderr the long line',
    'shop web-0 nginx stdout GET /index.html 200',
  ]);
  const parsed = logs.filter((l) => l.contents._stream_ !== undefined);
  expect(parsed.every((l) => l.time === Date.parse('2024-05-01T10:00:00Z') / 1000 && l.time_ns === 123456789)).toBe(true);
  const bad = logs.find((l) => l.contents.content === 'not a cri line')!;
  expect(bad.contents.__parse_error__).toBe('not a CRI log line');

  const metrics = await (await fetch(`${await agent.metricsUrl()}/metrics`)).text();
  expect(metrics).toMatch(/^logseal_input_malformed_lines_total\{input="0"\} 1$/m);
  // The limit is wired to the input (whether ~40 KB at 32 KiB/s had to pause depends on timing: the pausing itself is
  // specified in test/input/rate-limit.test.ts).
  expect(metrics).toMatch(/^logseal_input_rate_limited_seconds_total\{input="0"\} [\d.e-]+$/m);

  const opened = agent.logs().filter((l) => l.msg === 'file opened').map((l) => l.path);
  expect(opened).not.toContain(oldFile);
  await appendFile(oldFile, `${T} stdout F written again\n`);
  const later = await waitFor('the old file written again', async () => {
    const got = await shippedLogs(w);
    return got.length >= 6 ? got : undefined;
  });
  expect(later.filter((l) => l.contents._pod_name_ === 'old-0').map((l) => l.contents.content)).toEqual(['written again']);
});
