// `${VAR}` and `${VAR:-default}` in config values, resolved after YAML parsing so a value can never change the file's structure.
import { ConfigError, formatKeyPath } from './config-error.js';

const REFERENCE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const NAME_AND_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Returns a copy of `doc` with every string value's references replaced. `$${` stands for a literal `${`.
 * Values stay strings: the schema decides whether "8" may be a number, so a secret is never reinterpreted.
 */
export function substituteEnv(doc: unknown, env: NodeJS.ProcessEnv, file: string): unknown {
  return walk(doc, [], env, file);
}

function walk(value: unknown, path: PropertyKey[], env: NodeJS.ProcessEnv, file: string): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, file);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i], env, file));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key], env, file);
    return out;
  }
  return value;
}

function substituteString(text: string, path: PropertyKey[], env: NodeJS.ProcessEnv, file: string): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match: string, inner: string | undefined) => {
    if (match === '$${') return '${';
    const parsed = inner === undefined ? null : NAME_AND_DEFAULT.exec(inner);
    if (!parsed) {
      throw new ConfigError(file, formatKeyPath(path), 'malformed ${...} reference (expected ${NAME} or ${NAME:-default})');
    }
    const [, name, fallback] = parsed as unknown as [string, string, string | undefined];
    const current = env[name];
    if (fallback !== undefined) return current ? current : fallback;
    if (current === undefined) {
      throw new ConfigError(file, formatKeyPath(path), `environment variable ${name} is not set (use \${${name}:-default} for a default)`);
    }
    return current;
  });
}
