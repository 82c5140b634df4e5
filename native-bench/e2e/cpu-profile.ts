// Reads the .cpuprofile files `node --cpu-prof` writes (one per thread) and ranks functions by self time.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  name: string;
  /** file:line, relative to the repository (or the package inside node_modules). */
  where: string;
  selfMs: number;
}

export interface ThreadProfile {
  file: string;
  /** `main`, or `thread <id>` for a worker. */
  thread: string;
  /** Sampled time with the thread not idle. */
  busyMs: number;
  /** Sampled time in all, idle included: how long the thread lived. */
  sampledMs: number;
  functions: FunctionCost[];
}

/** Samples of a thread that is not using the CPU: V8's idle marker, and a piscina worker blocked in Atomics.wait for its next task. */
const WAITING = new Set(['(idle)', 'atomicsWaitLoop']);

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Generated line → segments [generated column, source index, source line, source column], from a v3 source map. */
interface SourceMap {
  sources: string[];
  lines: number[][][];
}

function decodeMappings(mappings: string): number[][][] {
  const lines: number[][][] = [];
  let src = 0, srcLine = 0, srcCol = 0;
  for (const line of mappings.split(';')) {
    const segments: number[][] = [];
    let col = 0;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const values: number[] = [];
      let value = 0, shift = 0;
      for (const ch of seg) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += values[0]!;
      if (values.length >= 4) {
        src += values[1]!;
        srcLine += values[2]!;
        srcCol += values[3]!;
        segments.push([col, src, srcLine, srcCol]);
      }
    }
    lines.push(segments);
  }
  return lines;
}

const maps = new Map<string, SourceMap | undefined>();

function sourceMapFor(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    let map: SourceMap | undefined;
    if (existsSync(`${file}.map`)) {
      const raw = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourceRoot?: string; mappings: string };
      const base = path.resolve(path.dirname(file), raw.sourceRoot ?? '');
      map = { sources: raw.sources.map((s) => path.resolve(base, s)), lines: decodeMappings(raw.mappings) };
    }
    maps.set(file, map);
  }
  return maps.get(file);
}

/** file:line of a frame; compiled files (dist/) are mapped back to their TypeScript source through the .js.map tsc wrote. */
function location(frame: ProfileNode['callFrame'], root: string): string {
  let file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  let line = frame.lineNumber + 1;
  const map = file.startsWith('/') ? sourceMapFor(file) : undefined;
  const segments = map?.lines[frame.lineNumber];
  if (map && segments && segments.length > 0) {
    let best = segments[0]!;
    for (const s of segments) if (s[0]! <= frame.columnNumber) best = s;
    file = map.sources[best[1]!]!;
    line = best[2]! + 1;
  }
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) file = file.slice(nm + '/node_modules/'.length);
  else if (file.startsWith(`${root}/`)) file = file.slice(root.length + 1);
  return `${file}:${line}`;
}

export function summarizeProfile(file: string, root: string): ThreadProfile {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i + 1] is how long the sample i lasted, until the next one was taken.
  for (let i = 0; i < profile.samples.length; i++) {
    const d = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + Math.max(0, d));
  }
  const costs = new Map<string, FunctionCost>();
  let busyUs = 0;
  let sampledUs = 0;
  for (const [id, us] of selfUs) {
    sampledUs += us;
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    if (WAITING.has(name)) continue;
    busyUs += us;
    const where = frame.url ? location(frame, root) : '';
    const key = `${name}@${where}`;
    const c = costs.get(key) ?? { name, where, selfMs: 0 };
    c.selfMs += us / 1000;
    costs.set(key, c);
  }
  const m = /\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(path.basename(file));
  const thread = m && m[2] !== '0' ? `thread ${m[2]}` : 'main';
  return { file, thread, busyMs: busyUs / 1000, sampledMs: sampledUs / 1000, functions: [...costs.values()].sort((a, b) => b.selfMs - a.selfMs) };
}

export function summarizeProfiles(dir: string, root: string): ThreadProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summarizeProfile(path.join(dir, f), root));
}

/** Several threads' costs added up per function (the seal workers all run the same code). */
export function combine(threads: ThreadProfile[]): { busyMs: number; functions: FunctionCost[] } {
  const costs = new Map<string, FunctionCost>();
  let busyMs = 0;
  for (const t of threads) {
    busyMs += t.busyMs;
    for (const f of t.functions) {
      const key = `${f.name}@${f.where}`;
      const c = costs.get(key) ?? { name: f.name, where: f.where, selfMs: 0 };
      c.selfMs += f.selfMs;
      costs.set(key, c);
    }
  }
  return { busyMs, functions: [...costs.values()].sort((a, b) => b.selfMs - a.selfMs) };
}

/** Self time per source file (node internals and native code by their own names). */
export function byFile(functions: FunctionCost[]): FunctionCost[] {
  const files = new Map<string, FunctionCost>();
  for (const f of functions) {
    const file = f.where ? f.where.replace(/:\d+$/, '') : f.name;
    const c = files.get(file) ?? { name: file, where: '', selfMs: 0 };
    c.selfMs += f.selfMs;
    files.set(file, c);
  }
  return [...files.values()].sort((a, b) => b.selfMs - a.selfMs);
}

export function formatTop(title: string, busyMs: number, functions: FunctionCost[], n: number): string {
  const rows = functions.slice(0, n).map((f) => `  ${f.selfMs.toFixed(0).padStart(7)} ms ${((100 * f.selfMs) / busyMs).toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  return [`${title} — self time, top ${n}, % of busy time`, ...rows].join('\n');
}
