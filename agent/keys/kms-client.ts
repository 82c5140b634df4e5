// The agent's two KMS calls, GenerateDataKey and Decrypt, made with the official @alicloud/kms20160120 client.
import type kmsSdk from '@alicloud/kms20160120';
import type { DecryptRequest, GenerateDataKeyRequest } from '@alicloud/kms20160120';
import type { Config } from '@alicloud/rpc-client';
import { KmsError } from './kms-error.js';

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

type SdkClient = InstanceType<typeof kmsSdk.default>;
interface Sdk {
  Client: typeof kmsSdk.default;
  GenerateDataKeyRequest: typeof GenerateDataKeyRequest;
  DecryptRequest: typeof DecryptRequest;
  Config: typeof Config;
}

/**
 * The SDK and its dependencies cost ~240 ms of CPU and ~24 MB to load; they are loaded at the first call, so a command
 * or a process that never talks to KMS does not pay for them.
 */
let sdkLoaded: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  return (sdkLoaded ??= import('../keys/alicloud-sdk.js').then(({ kms, rpc }) => {
    // Both are CommonJS with `exports.default`; Node hands ESM the whole exports object, some loaders unwrap it.
    const k = kms as unknown as typeof kmsSdk & { default: { default?: typeof kmsSdk.default } };
    const r = rpc as unknown as { Config?: typeof Config; default?: { Config: typeof Config } };
    return {
      Client: k.default.default ?? (k.default as unknown as typeof kmsSdk.default),
      GenerateDataKeyRequest: k.GenerateDataKeyRequest,
      DecryptRequest: k.DecryptRequest,
      Config: r.Config ?? r.default!.Config,
    };
  }));
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'EPROTO',
  'UND_ERR_SOCKET',
]);

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

/** Turns whatever the SDK threw into a KmsError. Its own messages embed the request URL, so they are not reused. */
export function toKmsError(err: unknown): KmsError {
  if (err instanceof KmsError) return err;
  const e = (err ?? {}) as { code?: unknown; name?: unknown; message?: unknown; data?: Record<string, unknown> };
  const data = e.data;
  const statusInMessage = typeof e.message === 'string' ? /^code: (\d{3}),/.exec(e.message.replace(/^\S+: /, '')) : null;
  const status = Number(data?.['HttpStatus'] ?? data?.['httpStatus'] ?? statusInMessage?.[1] ?? 0) || 0;
  const serverCode = data?.['Code'] ?? data?.['code'];
  if (typeof serverCode === 'string' && serverCode !== '') {
    const requestId = data?.['RequestId'] ?? data?.['requestId'];
    return new KmsError({
      code: serverCode,
      status,
      message: String(data?.['Message'] ?? data?.['message'] ?? ''),
      ...(typeof requestId === 'string' ? { requestId } : {}),
    });
  }
  if (status > 0 && typeof e.code === 'string') {
    // An error status without a KMS error body (a proxy in the way, say).
    const code = e.code.replace(/Error$/, '');
    return new KmsError({
      code: code && code !== 'undefined' ? code : 'HttpError',
      status,
      message: 'no error details in the response',
    });
  }
  if (e.name === 'RequestTimeoutError') return new KmsError({ code: 'Timeout', status: 0, message: 'no answer in time' });
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new KmsError({ code: 'NetworkError', status: 0, message: e.code });
  }
  if (err instanceof SyntaxError) {
    return new KmsError({ code: 'InvalidResponse', status: 0, message: 'the response is not JSON' });
  }
  return new KmsError({ code: 'ClientError', status: 0, message: err instanceof Error ? err.name : 'unknown failure' });
}

function decodeBase64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new KmsError({ code: 'InvalidResponse', status: 0, message: `${what} is not base64` });
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export class KmsClient {
  private sdkClient: Promise<SdkClient> | undefined;
  private readonly endpoint: { host: string; protocol: 'http' | 'https' };

  constructor(private readonly o: KmsClientOptions) {
    this.endpoint = parseEndpoint(o.endpoint);
  }

  private client(): Promise<SdkClient> {
    return (this.sdkClient ??= loadSdk().then(({ Client, Config }) => {
      const o = this.o;
      const { host, protocol } = this.endpoint;
      const timeout = o.timeoutMs ?? 10_000;
      return new Client(
        new Config({
          accessKeyId: o.accessKeyId,
          accessKeySecret: o.accessKeySecret,
          ...(o.securityToken ? { securityToken: o.securityToken } : {}),
          endpoint: host,
          protocol,
          regionId: o.regionId,
          readTimeout: timeout,
          connectTimeout: timeout,
        }),
      );
    }));
  }

  /** A fresh data key of `numberOfBytes` under `cmk` (id, alias or ARN), bound to `context`. */
  async generateDataKey(cmk: string, numberOfBytes: number, context: Record<string, string>): Promise<GeneratedDataKey> {
    let res;
    try {
      const sdk = await loadSdk();
      res = await (await this.client()).generateDataKey(
        new sdk.GenerateDataKeyRequest({ keyId: cmk, numberOfBytes, encryptionContext: contextParam(context) }),
      );
    } catch (err) {
      throw toKmsError(err);
    }
    const plaintext = decodeBase64(res.plaintext, 'Plaintext');
    if (plaintext.length !== numberOfBytes || !res.keyId || !res.ciphertextBlob) {
      plaintext.fill(0);
      throw new KmsError({ code: 'InvalidResponse', status: 0, message: 'GenerateDataKey answered without a usable key' });
    }
    return { keyId: res.keyId, keyVersionId: res.keyVersionId ?? '', plaintext, blob: res.ciphertextBlob };
  }

  /** The data key inside `blob`; `context` must be the one it was generated with. */
  async decrypt(blob: string, context: Record<string, string>): Promise<Uint8Array> {
    let res;
    try {
      const sdk = await loadSdk();
      res = await (await this.client()).decrypt(new sdk.DecryptRequest({ ciphertextBlob: blob, encryptionContext: contextParam(context) }));
    } catch (err) {
      throw toKmsError(err);
    }
    return decodeBase64(res.plaintext, 'Plaintext');
  }
}

/**
 * KMS documents EncryptionContext as a JSON string. This SDK version types it as a map and would flatten a map
 * into `EncryptionContext.<key>` parameters, so it is handed the JSON string, which it sends as is.
 */
function contextParam(context: Record<string, string>): { [key: string]: unknown } {
  return JSON.stringify(context) as unknown as { [key: string]: unknown };
}
