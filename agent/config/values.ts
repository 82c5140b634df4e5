// The kinds of values a config key can hold (durations, sizes, endpoints, regexes…), each with its own one-line message.
import { z } from 'zod';
import { formatDuration, formatSize, parseDuration, parseSize } from './units.js';

export function duration(o: { min: number; max: number }) {
  return z.unknown().transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 30s, 5m or 1h' });
      return z.NEVER;
    }
    if (ms < o.min || ms > o.max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${formatDuration(o.min)} and ${formatDuration(o.max)}` });
      return z.NEVER;
    }
    return ms;
  });
}

export function size(o: { min: number; max: number }) {
  return z.unknown().transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a size such as 512KiB, 64MiB, 1GiB or a number of bytes' });
      return z.NEVER;
    }
    if (bytes < o.min || bytes > o.max) {
      ctx.addIssue({ code: 'custom', message: `must be between ${formatSize(o.min)} and ${formatSize(o.max)}` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** Integers may arrive as strings from `${VAR}` substitution. */
export function integer(o: { min: number; max: number }) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int().min(o.min).max(o.max),
  );
}

/** A URL or a bare host (meaning https://host) → the URL's origin; undefined when it is neither. */
export function normalizeEndpoint(raw: string): string | undefined {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (!url.hostname || url.username || url.password || url.search || url.hash) return undefined;
  if (url.pathname !== '/' && url.pathname !== '') return undefined;
  return url.origin;
}

export function endpoint() {
  return z.string().transform((raw, ctx) => {
    const url = normalizeEndpoint(raw);
    if (url === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected a URL or host name' });
      return z.NEVER;
    }
    return url;
  });
}

/** An empty credential (e.g. from `${VAR:-}`) means "not set here": the default credential chain applies. */
export function credential() {
  return z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
}

function compileError(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    // V8 says "Invalid regular expression: /<pattern>/: <reason>"; the reason is the useful part.
    const message = err instanceof Error ? err.message : String(err);
    return message.slice(message.lastIndexOf(': ') + 2) || 'invalid';
  }
}

export function regexPattern(o: { namedGroups: boolean }) {
  return z.string().min(1).superRefine((pattern, ctx) => {
    const reason = compileError(pattern);
    if (reason !== undefined) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression (${reason})` });
      return;
    }
    // An alternative that matches '' exposes every group name without needing a sample line.
    if (o.namedGroups && !new RegExp(`${pattern}|`).exec('')?.groups) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one named group, e.g. (?<level>\\w+)' });
    }
  });
}

const scalarString = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());
// SLS reserves `__`-prefixed names (__topic__, __source__), and logseal uses them for its own fields and tags.
const userKey = z.string().min(1).regex(/^(?!__)/, 'names starting with __ are reserved');
export const stringMap = () => z.record(userKey, scalarString).prefault({});

export function listenAddress() {
  return z.unknown().transform((value, ctx) => {
    if (value === false || value === 'false') return false as const;
    const m = typeof value === 'string' ? /^\s*(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})\s*$/.exec(value) : null;
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) {
      ctx.addIssue({ code: 'custom', message: 'expected host:port (e.g. 127.0.0.1:9464) or false' });
      return z.NEVER;
    }
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}
