// The agent's two KMS calls, GenerateDataKey and Decrypt, made with the official @alicloud/kms20160120 client on the
// KMS thread (kms-thread.ts), and what their answers must hold.
import { KmsError } from './kms-error.js';
import type { SdkRequest, SdkTarget } from './kms-sdk-call.js';
import { KmsThread } from './kms-thread.js';

export interface KmsClientOptions {
  /** `http://127.0.0.1:PORT`, `https://kms.cn-hangzhou.aliyuncs.com`, or a bare host (then https). */
  endpoint: string;
  regionId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Connect and read timeout of each call; default 10 s. */
  timeoutMs?: number;
}

export interface GeneratedDataKey {
  keyId: string;
  keyVersionId: string;
  plaintext: Uint8Array;
  blob: string;
}

/** One thread for every client of the process: KMS is called once per data key. */
let thread: KmsThread | undefined;

function parseEndpoint(endpoint: string): { host: string; protocol: 'http' | 'https' } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new KmsError({ code: 'InvalidEndpoint', status: 0, message: `not a URL or host: ${endpoint}` });
  }
  const protocol = url.protocol.slice(0, -1);
  if ((protocol !== 'http' && protocol !== 'https') || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new KmsError({ code: 'InvalidEndpoint', status: 0, message: `expected http(s)://host[:port]: ${endpoint}` });
  }
  return { host: url.host, protocol };
}

function decodeBase64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new KmsError({ code: 'InvalidResponse', status: 0, message: `${what} is not base64` });
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export class KmsClient {
  private readonly target: SdkTarget;

  constructor(o: KmsClientOptions) {
    this.target = {
      ...parseEndpoint(o.endpoint),
      regionId: o.regionId,
      accessKeyId: o.accessKeyId,
      accessKeySecret: o.accessKeySecret,
      ...(o.securityToken ? { securityToken: o.securityToken } : {}),
      timeoutMs: o.timeoutMs ?? 10_000,
    };
  }

  private call(request: SdkRequest) {
    return (thread ??= new KmsThread()).call(this.target, request);
  }

  /** A fresh data key of `numberOfBytes` under `cmk` (id, alias or ARN), bound to `context`. */
  async generateDataKey(cmk: string, numberOfBytes: number, context: Record<string, string>): Promise<GeneratedDataKey> {
    const res = await this.call({ op: 'generateDataKey', keyId: cmk, numberOfBytes, context });
    const plaintext = decodeBase64(res.plaintext, 'Plaintext');
    if (plaintext.length !== numberOfBytes || !res.keyId || !res.ciphertextBlob) {
      plaintext.fill(0);
      throw new KmsError({ code: 'InvalidResponse', status: 0, message: 'GenerateDataKey answered without a usable key' });
    }
    return { keyId: res.keyId, keyVersionId: res.keyVersionId ?? '', plaintext, blob: res.ciphertextBlob };
  }

  /** The data key inside `blob`; `context` must be the one it was generated with. */
  async decrypt(blob: string, context: Record<string, string>): Promise<Uint8Array> {
    const res = await this.call({ op: 'decrypt', blob, context });
    return decodeBase64(res.plaintext, 'Plaintext');
  }
}
