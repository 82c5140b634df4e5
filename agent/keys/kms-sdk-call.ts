// One call of the official KMS client (@alicloud/kms20160120): what runs on the KMS thread (kms-worker.ts).
import type kmsSdk from '@alicloud/kms20160120';
import type { DecryptRequest, GenerateDataKeyRequest } from '@alicloud/kms20160120';
import type { Config } from '@alicloud/rpc-client';
import { toKmsError } from './kms-error.js';

/** The service and credentials a call goes to. */
export interface SdkTarget {
  host: string;
  protocol: 'http' | 'https';
  regionId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  timeoutMs: number;
}

export type SdkRequest =
  | { op: 'generateDataKey'; keyId: string; numberOfBytes: number; context: Record<string, string> }
  | { op: 'decrypt'; blob: string; context: Record<string, string> };

/** The fields of the answer the caller checks; the plaintext key is base64, as KMS sends it. */
export interface SdkAnswer {
  plaintext?: string;
  keyId?: string;
  keyVersionId?: string;
  ciphertextBlob?: string;
}

type SdkClient = InstanceType<typeof kmsSdk.default>;
interface Sdk {
  Client: typeof kmsSdk.default;
  GenerateDataKeyRequest: typeof GenerateDataKeyRequest;
  DecryptRequest: typeof DecryptRequest;
  Config: typeof Config;
}

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

const clients = new Map<string, SdkClient>();

function clientFor(sdk: Sdk, t: SdkTarget): SdkClient {
  const id = JSON.stringify(t);
  let client = clients.get(id);
  if (!client) {
    client = new sdk.Client(
      new sdk.Config({
        accessKeyId: t.accessKeyId,
        accessKeySecret: t.accessKeySecret,
        ...(t.securityToken ? { securityToken: t.securityToken } : {}),
        endpoint: t.host,
        protocol: t.protocol,
        regionId: t.regionId,
        readTimeout: t.timeoutMs,
        connectTimeout: t.timeoutMs,
      }),
    );
    // Credentials from STS change every hour: the thread drops its clients rather than gather them.
    if (clients.size >= 8) clients.clear();
    clients.set(id, client);
  }
  return client;
}

/** Makes the call; whatever fails is thrown as a KmsError. */
export async function callSdk(target: SdkTarget, request: SdkRequest): Promise<SdkAnswer> {
  try {
    const sdk = await loadSdk();
    const client = clientFor(sdk, target);
    const encryptionContext = contextParam(request.context);
    const res =
      request.op === 'generateDataKey'
        ? await client.generateDataKey(new sdk.GenerateDataKeyRequest({ keyId: request.keyId, numberOfBytes: request.numberOfBytes, encryptionContext }))
        : await client.decrypt(new sdk.DecryptRequest({ ciphertextBlob: request.blob, encryptionContext }));
    const r = res as { plaintext?: string; keyId?: string; keyVersionId?: string; ciphertextBlob?: string };
    const answer: SdkAnswer = {};
    for (const k of ['plaintext', 'keyId', 'keyVersionId', 'ciphertextBlob'] as const) if (typeof r[k] === 'string') answer[k] = r[k];
    return answer;
  } catch (err) {
    throw toKmsError(err);
  }
}

/**
 * KMS documents EncryptionContext as a JSON string. This SDK version types it as a map and would flatten a map
 * into `EncryptionContext.<key>` parameters, so it is handed the JSON string, which it sends as is.
 */
function contextParam(context: Record<string, string>): { [key: string]: unknown } {
  return JSON.stringify(context) as unknown as { [key: string]: unknown };
}
