// Path globs for inputs: brace expansion, matching whole paths, and the directory walk that finds candidate files.
import { readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import path from 'node:path';

/** A directory that could not be listed (other than not existing), for the caller to report. */
export interface WalkError {
  path: string;
  code: string;
}

export interface WalkResult {
  /** Paths whose names match; not yet stat()ed, so they may be gone, directories or special files. */
  files: string[];
  /** Directories where matching files may appear (worth watching). */
  dirs: string[];
  errors: WalkError[];
}

/** `{a,b}` expansion, nested allowed; a brace group without a top-level comma stays literal (as in the shell). */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      const close = classEnd(pattern, i);
      if (close > 0) i = close;
    } else if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const alternatives = splitTopLevel(pattern.slice(open + 1, i));
        if (alternatives.length > 1) {
          const head = pattern.slice(0, open);
          const tail = pattern.slice(i + 1);
          return alternatives.flatMap((alt) => expandBraces(head + alt + tail));
        }
        open = -1;
      }
    }
  }
  return [pattern];
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** Index of the `]` closing the class opened at `open`, or -1 when the `[` is a literal. */
function classEnd(p: string, open: number): number {
  let i = open + 1;
  if (p[i] === '!' || p[i] === '^') i++;
  if (p[i] === ']') i++; // a leading ']' is a member, not the end
  for (; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']') return i;
    else if (p[i] === '/') return -1;
  }
  return -1;
}

function hasMagic(segment: string): boolean {
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?') return true;
    else if (c === '[' && classEnd(segment, i) > 0) return true;
  }
  return false;
}

function unescape(segment: string): string {
  return segment.replace(/\\(.)/g, '$1');
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/** Regex source for one path segment (no `/`, no braces). */
function segmentSource(seg: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '\\' && i + 1 < seg.length) {
      out += seg[++i].replace(REGEX_SPECIAL, '\\$&');
    } else if (c === '*') {
      while (seg[i + 1] === '*') i++;
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[' && classEnd(seg, i) > 0) {
      const close = classEnd(seg, i);
      let j = i + 1;
      let negated = false;
      if (seg[j] === '!' || seg[j] === '^') {
        negated = true;
        j++;
      }
      let members = '';
      for (; j < close; j++) {
        let m = seg[j];
        if (m === '\\' && j + 1 < close) m = seg[++j];
        members += m === '-' ? '-' : m.replace(/[\\\]^[]/g, '\\$&');
      }
      out += negated ? `[^/${members}]` : `[${members}]`;
      i = close;
    } else {
      out += c.replace(REGEX_SPECIAL, '\\$&');
    }
  }
  return out;
}

/** Anchored regex for a whole brace-free pattern; a `**` segment spans zero or more directories. */
function patternRegex(pattern: string): RegExp {
  const segs = pattern.split('/');
  let src = '';
  for (let i = 0; i < segs.length; i++) {
    const last = i === segs.length - 1;
    if (segs[i] === '**') src += last ? '.*' : '(?:[^/]+/)*';
    else src += segmentSource(segs[i]) + (last ? '' : '/');
  }
  return new RegExp(`^${src}$`);
}

interface CompiledPattern {
  /** Directory where the walk starts: the pattern's leading segments without wildcards. */
  base: string;
  /** Remaining segments, matched level by level below base. */
  rest: { raw: string; regex: RegExp | null /* null: literal */ }[];
  whole: RegExp;
}

function compilePattern(pattern: string): CompiledPattern {
  const segs = pattern.split('/');
  let split = segs.findIndex((s) => s === '**' || hasMagic(s));
  if (split === -1) split = segs.length - 1; // a plain path: the last segment is the file name
  const base = segs.slice(0, split).map(unescape).join('/') || '/';
  const rest = segs.slice(split).map((raw) => ({
    raw,
    regex: raw === '**' ? null : hasMagic(raw) ? new RegExp(`^${segmentSource(raw)}$`) : null,
  }));
  return { base, rest, whole: patternRegex(pattern) };
}

/** Include/exclude globs over absolute paths. */
export class PathMatcher {
  private readonly include: CompiledPattern[];
  private readonly excludeWhole: RegExp[];
  private readonly excludeName: RegExp[];

  constructor(include: string[], exclude: string[] = [], cwd = process.cwd()) {
    const absolute = (p: string) => (p.startsWith('/') ? path.posix.normalize(p) : path.posix.join(cwd, p));
    this.include = include.flatMap(expandBraces).map((p) => compilePattern(absolute(p)));
    const ex = exclude.flatMap(expandBraces);
    this.excludeName = ex.filter((p) => !p.includes('/')).map(patternRegex);
    this.excludeWhole = ex.filter((p) => p.includes('/')).map((p) => patternRegex(absolute(p)));
  }

  matches(file: string): boolean {
    return this.include.some((p) => p.whole.test(file)) && !this.excluded(file);
  }

  private excluded(file: string): boolean {
    if (this.excludeWhole.some((r) => r.test(file))) return true;
    const name = path.posix.basename(file);
    return this.excludeName.some((r) => r.test(name));
  }

  /** Lists matching paths now. Symlinked directories are followed for named levels but not inside `**` (no loops). */
  async find(): Promise<WalkResult> {
    const files = new Set<string>();
    const dirs = new Set<string>();
    const errors: WalkError[] = [];
    // null: the directory does not exist; 'unlisted': it exists but cannot be read (reported once).
    const listing = new Map<string, Promise<Dirent[] | null | 'unlisted'>>();
    const list = (dir: string): Promise<Dirent[] | null | 'unlisted'> => {
      let p = listing.get(dir);
      if (!p) {
        p = readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
          errors.push({ path: dir, code: err.code ?? 'EIO' });
          return 'unlisted' as const;
        });
        listing.set(dir, p);
      }
      return p;
    };

    const walk = async (dir: string, rest: CompiledPattern['rest'], i: number): Promise<void> => {
      const seg = rest[i];
      const last = i === rest.length - 1;
      if (seg.raw === '**') {
        if (!last) await walk(dir, rest, i + 1);
        const entries = await list(dir);
        if (!Array.isArray(entries)) return;
        if (last) dirs.add(dir);
        for (const e of entries) {
          const child = path.posix.join(dir, e.name);
          if (e.isDirectory()) await walk(child, rest, i);
          else if (last) files.add(child);
        }
        return;
      }
      if (seg.regex === null) {
        const name = unescape(seg.raw);
        const child = path.posix.join(dir, name);
        if (last) {
          // Check the listing, or `**/name` would yield a candidate in every directory; when the directory cannot
          // be listed the file may still be readable, so keep it as a candidate.
          const entries = await list(dir);
          if (entries === null || (Array.isArray(entries) && !entries.some((e) => e.name === name))) return;
          dirs.add(dir);
          files.add(child);
        } else {
          await walk(child, rest, i + 1);
        }
        return;
      }
      const entries = await list(dir);
      if (!Array.isArray(entries)) return;
      if (last) dirs.add(dir);
      for (const e of entries) {
        if (!seg.regex.test(e.name)) continue;
        const child = path.posix.join(dir, e.name);
        if (last) files.add(child);
        else if (e.isDirectory() || e.isSymbolicLink()) await walk(child, rest, i + 1);
      }
    };

    for (const p of this.include) await walk(p.base, p.rest, 0);
    const matched = [...files].filter((f) => this.matches(f));
    return { files: matched, dirs: [...dirs], errors };
  }
}
