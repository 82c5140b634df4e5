// AccessKey credentials for SLS and KMS: the config file's values when present, else the standard Alibaba Cloud chain.
import { oneLine } from './config-error.js';
import type { Config } from './schema.js';

export interface AccessCredentials { accessKeyId: string; accessKeySecret: string; securityToken?: string }
export type CredentialSource = () => Promise<AccessCredentials>;

/** No credentials could be found; the message lists where logseal looked, never a secret. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

interface ChainProvider { getCredentials(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string }> }

/** ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN, if the first two are set. */
export function credentialsFromEnv(): AccessCredentials | undefined {
  const { ALIBABA_CLOUD_ACCESS_KEY_ID: accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: accessKeySecret, ALIBABA_CLOUD_SECURITY_TOKEN: securityToken } = process.env;
  if (!accessKeyId || !accessKeySecret) return undefined;
  return { accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) };
}

/**
 * Returns a function yielding current credentials for `service` (KMS falls back to the SLS ones).
 * Call it before every request batch: chain credentials (ECS RAM role, STS) expire and the chain refreshes them.
 */
export function resolveCredentials(config: Config, service: 'sls' | 'kms' = 'sls'): CredentialSource {
  const own = service === 'kms' && config.kms.accessKeyId !== undefined ? config.kms : config.sls;
  if (own.accessKeyId !== undefined && own.accessKeySecret !== undefined) {
    const fixed: AccessCredentials = { accessKeyId: own.accessKeyId, accessKeySecret: own.accessKeySecret };
    if (own.securityToken !== undefined) fixed.securityToken = own.securityToken;
    return async () => ({ ...fixed });
  }
  // Built lazily so the environment is read when credentials are first needed, not at import time; the chain's
  // package is loaded only then too (it costs ~70 ms and ~10 MB, for nothing when the config names the keys).
  let chain: Promise<ChainProvider> | undefined;
  return async () => {
    // The chain's first link, read the way it reads it (at every call): keys in the environment need no package.
    const fromEnv = credentialsFromEnv();
    if (fromEnv) return fromEnv;
    let found: Awaited<ReturnType<ChainProvider['getCredentials']>>;
    try {
      chain ??= import('../keys/alicloud-sdk.js').then(({ credentials: m }) => m.DefaultCredentialsProvider.builder().build() as unknown as ChainProvider);
      found = await (await chain).getCredentials();
    } catch (err) {
      const full = oneLine(err instanceof Error ? err.message : String(err));
      const cause = full.length > 400 ? `${full.slice(0, 400)}…` : full;
      throw new CredentialsError(
        `no Alibaba Cloud credentials for ${service}: set ${service}.accessKeyId/accessKeySecret in the config, ` +
          `or ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, a profile or an ECS RAM role (${cause})`,
      );
    }
    const out: AccessCredentials = { accessKeyId: found.accessKeyId, accessKeySecret: found.accessKeySecret };
    if (found.securityToken) out.securityToken = found.securityToken;
    return out;
  };
}
