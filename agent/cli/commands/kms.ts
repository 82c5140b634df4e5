// The KMS client a command builds from the config's kms section.
import { resolveCredentials, type Config } from '../../config/index.js';
import { KmsClient } from '../../keys/index.js';

export async function kmsClientFor(config: Config): Promise<KmsClient> {
  const creds = await resolveCredentials(config, 'kms')();
  return new KmsClient({
    endpoint: config.kms.endpoint,
    regionId: config.kms.regionId,
    accessKeyId: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
  });
}
