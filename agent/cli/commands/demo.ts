// `npm start`: the embedded default — local KMS and SLS, a CMK, an encrypted Logstore, sample logs, and the agent.
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startEmulators } from '../../../emulators/index.js';
import { runAgent } from './run.js';

const ROOT = path.resolve('.logseal');
const ENV_FILE = path.join(ROOT, 'demo.env');
const SAMPLE_DIR = path.join(ROOT, 'sample-logs');
const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'];
const PATHS = ['/api/orders', '/api/users/42', '/healthz', '/api/payments', '/login'];

async function readEnvFile(): Promise<Record<string, string>> {
  try {
    const text = await readFile(ENV_FILE, 'utf8');
    return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  } catch {
    return {};
  }
}

function sampleLine(n: number): string {
  const level = LEVELS[n % LEVELS.length];
  const route = PATHS[n % PATHS.length];
  return `${new Date().toISOString()} ${level} request=${n} path=${route} status=${level === 'ERROR' ? 500 : 200} latency_ms=${(n * 37) % 400}`;
}

export async function demoCommand(configPath: string): Promise<void> {
  await mkdir(SAMPLE_DIR, { recursive: true });
  const previous = await readEnvFile();
  // The same keys on every run, so the emulator's stored data and the CMK stay usable across demo restarts.
  const emulators = await startEmulators({
    dataDir: path.join(ROOT, 'emulator'),
    ...(previous.LOGSEAL_ACCESS_KEY_ID ? { accessKeyId: previous.LOGSEAL_ACCESS_KEY_ID, accessKeySecret: previous.LOGSEAL_ACCESS_KEY_SECRET } : {}),
  });
  let cmk = previous.LOGSEAL_CMK;
  if (!cmk || emulators.kms.keyring.keyState(cmk) === 'NotFound') cmk = (await emulators.kms.keyring.createKey('Aliyun_AES_256', 'logseal demo CMK')).keyId;
  const env = {
    LOGSEAL_SLS_ENDPOINT: emulators.sls.url,
    LOGSEAL_KMS_ENDPOINT: emulators.kms.url,
    LOGSEAL_ACCESS_KEY_ID: emulators.accessKeyId,
    LOGSEAL_ACCESS_KEY_SECRET: emulators.accessKeySecret,
    LOGSEAL_CMK: cmk,
  };
  await writeFile(ENV_FILE, `${Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
  Object.assign(process.env, env);

  const logFile = path.join(SAMPLE_DIR, 'app.log');
  let n = 0;
  const writeSome = async (count: number) => {
    let text = '';
    for (let i = 0; i < count; i++) text += `${sampleLine(n++)}\n`;
    await appendFile(logFile, text);
  };
  await writeSome(20);

  const say = (s: string) => process.stdout.write(`[demo] ${s}\n`);
  say(`local SLS ${emulators.sls.url}, local KMS ${emulators.kms.url}, CMK ${cmk}`);
  const running = await runAgent(configPath);
  say(`agent running on ${configPath}; writing sample lines to ${path.relative(process.cwd(), logFile)}`);
  say('decrypt what arrived, in another terminal:  npm run decrypt:demo');
  say('Ctrl-C stops the agent (it drains first) and the emulators');

  let ticks = 0;
  const writer = setInterval(() => {
    ticks++;
    void (async () => {
      await writeSome(5);
      // Rotate now and then, as logrotate would, to show that nothing is lost across a rename.
      if (ticks % 60 === 0) await rename(logFile, `${logFile}.${ticks / 60}`);
    })();
  }, 500);
  const reporter = setInterval(() => {
    const s = running.agent().status();
    say(`written ${n} lines, shipped ${s.linesShipped} sealed, ${s.state}${s.holdingReason ? ` (${s.holdingReason})` : ''}, spool ${s.spoolEntries} batches`);
  }, 5000);

  await running.done;
  clearInterval(writer);
  clearInterval(reporter);
  await emulators.close();
}
