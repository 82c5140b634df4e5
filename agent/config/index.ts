// Public surface of the config stage.
export { loadConfig, parseConfig } from './load.js';
export { ConfigError } from './config-error.js';
export { configReference } from './reference.js';
export { credentialsFromEnv, resolveCredentials, CredentialsError, type AccessCredentials, type CredentialSource } from './credentials.js';
export { configSchema, normalizeEndpoint, SLS_MAX_GROUP_BYTES, SLS_MAX_GROUP_LOGS, type Config, type InputSettings } from './schema.js';
export { parseDuration, parseSize, formatDuration, formatSize } from './units.js';
