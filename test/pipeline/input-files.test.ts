// The daemon end to end with many files, files closed for inactivity and logrotate's compress: a real agent process
// ships to the local SLS over HTTP, and every line is read back through `logseal decrypt`'s reader exactly once.
import { execFile } from 'node:child_process';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  agentConfig,
  appendLines,
  compareDelivery,
  daemonFixture,
  expectedLines,
  shippedContents,
  stopAgent,
  waitFor,
  writeConfig,
} from '../helpers/e2e.js';

const run = promisify(execFile);
const { start, world: startTrackedWorld } = daemonFixture();

describe('logseal run: many files, closed files, compressed rotations', () => {
  it('ships each line once with more files than maxOpenFiles, through closeInactive and `gzip` of a rotated file', async () => {
    const w = (await startTrackedWorld());
    const files = Array.from({ length: 40 }, (_, i) => path.join(w.logDir, `svc-${i}.log`));
    for (const [i, f] of files.entries()) await appendLines(f, `svc${i}`, 0, 30);
    const app = path.join(w.logDir, 'app.log');
    await appendLines(app, 'app', 0, 300);
    const config = agentConfig(w, {
      inputs: [{ paths: [path.join(w.logDir, '*.log'), path.join(w.logDir, 'app.log.*')], topic: 'e2e', startAt: 'beginning', closeInactive: '1s' }],
      maxOpenFiles: 16,
    });
    const agent = start(await writeConfig(w, config));
    const expected = [...files.flatMap((_, i) => expectedLines(`svc${i}`, 0, 30)), ...expectedLines('app', 0, 300)];
    const arrived = (want: string[]) =>
      waitFor(`${want.length} lines in the Logstore`, async () => {
        const got = await shippedContents(w);
        return compareDelivery(want, got).missing.length === 0 ? got : undefined;
      }, 60_000, 300);
    await arrived(expected);

    // logrotate with compress: rename, the writer's last lines go to the renamed file, a new file, then gzip.
    await rename(app, `${app}.1`);
    await appendLines(`${app}.1`, 'app', 300, 350);
    await appendLines(app, 'app', 350, 400);
    await run('gzip', [`${app}.1`]);
    // Files closed for inactivity (or to stay under maxOpenFiles) get more lines.
    for (const [i, f] of files.entries()) if (i % 4 === 0) await appendLines(f, `svc${i}`, 30, 40);
    expected.push(...expectedLines('app', 300, 400), ...files.flatMap((_, i) => (i % 4 === 0 ? expectedLines(`svc${i}`, 30, 40) : [])));
    await arrived(expected);
    // The compressed copy is opened once the plain file it was made from is finished; a marker written after that
    // arrives after whatever the copy would add, so duplicates from it would show below.
    await waitFor('the agent to open app.log.1.gz', () => agent.logs().find((l) => l.msg === 'file opened' && String(l.path).endsWith('.gz')), 60_000);
    await appendLines(app, 'marker', 0, 1);
    expected.push(...expectedLines('marker', 0, 1));
    const got = await arrived(expected);
    expect(compareDelivery(expected, got)).toEqual({ missing: [], duplicates: 0, unexpected: [] });
    expect(await stopAgent(agent)).toBe(0);
  }, 120_000);
});
