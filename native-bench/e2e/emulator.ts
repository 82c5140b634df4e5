// The local SLS + KMS as a separate process (`logseal emulator`), so its CPU never counts as the agent's or a reference's.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import kmsSdk, * as $kms from '@alicloud/kms20160120';
import { Config as RpcConfig } from '@alicloud/rpc-client';
import { cpuSeconds } from './proc.js';

export interface EmulatorEndpoints {
  sls: string;
  kms: string;
  accessKeyId: string;
  accessKeySecret: string;
}

export interface SlsStats {
  putLogs: number;
  rejected: Record<string, number>;
}

export interface KmsStats {
  requests: number;
  byAction: Record<string, number>;
}

// The SDK is CommonJS compiled from TypeScript: under ESM its class sits on `default`.
const KmsSdkClient = ((kmsSdk as unknown as { default?: unknown }).default ?? kmsSdk) as typeof kmsSdk.default;

export class EmulatorProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoints: EmulatorEndpoints,
    private readonly stderr: () => string,
  ) {}

  /** Runs `node <cli> emulator --data <dataDir>` and waits for its ready line. */
  static async start(cliPath: string, dataDir: string): Promise<EmulatorProcess> {
    const child = spawn(process.execPath, [cliPath, 'emulator', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    const lines = createInterface({ input: child.stdout! });
    const ready = new Promise<EmulatorEndpoints>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the emulator exited with ${code} before it was ready: ${err.trim().split('\n').pop() ?? ''}`)));
      lines.once('line', (line) => resolve(JSON.parse(line) as EmulatorEndpoints));
    });
    const endpoints = await ready;
    return new EmulatorProcess(child, endpoints, () => err);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** CPU seconds the emulator process has used so far. */
  cpuSeconds(): number {
    return cpuSeconds(this.pid);
  }

  async slsStats(): Promise<SlsStats> {
    return (await this.control(this.endpoints.sls, 'GET', '/_emulator/stats')) as SlsStats;
  }

  async kmsStats(): Promise<KmsStats> {
    return (await this.control(this.endpoints.kms, 'GET', '/_emulator/stats')) as KmsStats;
  }

  /** `PUT /_emulator/faults` on the SLS side, e.g. `{refuseWrites: true}`; `{}` clears them. */
  async setSlsFaults(faults: Record<string, unknown>): Promise<void> {
    await this.control(this.endpoints.sls, 'PUT', '/_emulator/faults', faults);
  }

  /** A CMK created through the official KMS client, as a user would. */
  async createKey(spec: 'Aliyun_AES_256' | 'Aliyun_SM4'): Promise<string> {
    const port = new URL(this.endpoints.kms).port;
    const client = new KmsSdkClient(
      new RpcConfig({
        accessKeyId: this.endpoints.accessKeyId,
        accessKeySecret: this.endpoints.accessKeySecret,
        endpoint: `127.0.0.1:${port}`,
        protocol: 'http',
        regionId: 'cn-hangzhou',
      }),
    );
    const res = await client.createKey(new $kms.CreateKeyRequest({ keySpec: spec, description: 'logseal e2e benchmark' }));
    const keyId = res.keyMetadata?.keyId;
    if (!keyId) throw new Error('CreateKey returned no KeyId');
    return keyId;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }

  lastError(): string {
    return this.stderr();
  }

  private async control(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-emulator-secret': this.endpoints.accessKeySecret, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  }
}
