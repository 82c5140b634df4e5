// Reading a config file: YAML → `${VAR}` substitution → schema validation, with one-line errors that name the key.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, formatKeyPath, oneLine } from './config-error.js';
import { substituteEnv } from './env.js';
import { configSchema, type Config } from './schema.js';
import { zstdUnavailable } from '../wire/zstd.js';

/** Reads, substitutes and validates a config file. Every failure is a ConfigError whose message starts with `path`. */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`;
    throw new ConfigError(path, '', problem);
  }
  return parseConfig(text, path, env);
}

/** Validates config text; `name` is how messages refer to it (usually the file path). */
export function parseConfig(text: string, name: string, env: NodeJS.ProcessEnv = process.env): Config {
  const doc = parseDocument(text);
  const syntax = doc.errors[0];
  if (syntax) {
    // yaml's pretty message ends with a copy of the offending line, which may hold a secret: keep only the description.
    const description = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const pos = syntax.linePos?.[0];
    throw new ConfigError(pos ? `${name}:${pos.line}:${pos.col}` : name, '', `YAML syntax error: ${description}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(name, '', 'expected a mapping of keys at the top level');

  const substituted = substituteEnv(raw, env, name);
  const result = configSchema().safeParse(substituted, { error: issueMessage });
  if (result.success) {
    // Checked here, not at the first PutLogs: `logseal validate` and start-up both name the key.
    if (result.data.sls.compress === 'zstd') {
      const missing = zstdUnavailable();
      if (missing) throw new ConfigError(name, 'sls.compress', `zstd cannot be used on this machine (${missing}); use lz4 or deflate`);
    }
    return result.data;
  }
  const [first, ...rest] = result.error.issues;
  const { keyPath, problem } = describeIssue(first!);
  const more = rest.length ? ` (and ${rest.length} more ${rest.length === 1 ? 'problem' : 'problems'})` : '';
  throw new ConfigError(name, keyPath, problem + more);
}

function describeIssue(issue: z.core.$ZodIssue): { keyPath: string; problem: string } {
  if (issue.code === 'unrecognized_keys') {
    const [key, ...others] = issue.keys;
    const extra = others.length ? ` (also ${others.join(', ')})` : '';
    return { keyPath: formatKeyPath([...issue.path, key!]), problem: `unknown key${extra}` };
  }
  return { keyPath: formatKeyPath(issue.path), problem: oneLine(issue.message) };
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Messages for zod's built-in checks. They never quote the offending value: it may be a secret. */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} ${issue.minimum === 1 ? 'entry' : 'entries'}`;
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_union':
      if ('options' in issue && Array.isArray(issue.options)) return `expected one of ${issue.options.map(String).join(', ')}`;
      return 'has an unexpected form';
    case 'invalid_key':
      return issue.issues[0]?.message ?? 'invalid key';
    case 'invalid_format':
      return 'has an invalid format';
    default:
      return undefined;
  }
}
