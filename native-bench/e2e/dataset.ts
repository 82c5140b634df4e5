// Log files for the end-to-end benchmark: deterministic mixed lines around 200 bytes, and an order-free digest to check delivery.
import { createHash } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface Dataset {
  dir: string;
  files: string[];
  lines: number;
  /** Bytes on disk, newlines included: the "MB of log text" every rate is measured in. */
  bytes: number;
  /** Line count and LineDigest of every line, so a reader can prove nothing was lost, doubled or altered. */
  digest: string;
  /** Share of lines per kind, for the results page. */
  mix: Record<string, number>;
}

const FORMAT_VERSION = 1;
const MANIFEST = 'dataset.json';

/**
 * Sums of per-line SHA-1 words: independent of order, so lines arriving through several shards and
 * batches still compare equal, while a lost, repeated or altered line changes it.
 */
export class LineDigest {
  private count = 0;
  private a = 0;
  private b = 0;

  add(line: string): void {
    const h = createHash('sha1').update(line).digest();
    this.a = (this.a + h.readUInt32LE(0)) >>> 0;
    this.b = (this.b + h.readUInt32LE(4)) >>> 0;
    this.count++;
  }

  value(): string {
    return `${this.count}:${this.a.toString(16).padStart(8, '0')}${this.b.toString(16).padStart(8, '0')}`;
  }

  /** The digest of two sets of lines together, from their values. */
  static combine(x: string, y: string): string {
    const parse = (v: string): [number, number, number] => {
      const [count, hex] = v.split(':') as [string, string];
      return [Number(count), parseInt(hex.slice(0, 8), 16), parseInt(hex.slice(8), 16)];
    };
    const [c1, a1, b1] = parse(x);
    const [c2, a2, b2] = parse(y);
    const d = new LineDigest();
    d.count = c1 + c2;
    d.a = (a1 + a2) >>> 0;
    d.b = (b1 + b2) >>> 0;
    return d.value();
  }
}

/** xorshift32: the same files for the same seed, on every machine. */
class Random {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.next().toString(16).padStart(8, '0');
    return s.slice(0, chars);
  }
}

const PATHS = ['/api/v1/orders', '/api/v1/orders/7781/items', '/api/v1/users/profile', '/static/js/app.9f3c1.js', '/healthz', '/api/v2/search?q=desk+lamp&page=2', '/cart/checkout'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'curl/8.5.0', 'okhttp/4.12.0', 'Go-http-client/1.1', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148'];
const SERVICES = ['order-service', 'payment-service', 'inventory', 'gateway', 'user-service'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR'];
const MESSAGES = ['order accepted', 'payment authorised', 'stock reserved', 'cache miss, loading from db', 'retrying upstream call', 'session refreshed'];
const EXCEPTIONS = ['java.lang.IllegalStateException: order 88123 is already closed', 'java.net.SocketTimeoutException: Read timed out', 'org.springframework.dao.DataIntegrityViolationException: duplicate key value violates unique constraint "orders_pkey"'];
const FRAMES = ['com.example.shop.order.OrderService.close(OrderService.java:212)', 'com.example.shop.order.OrderController.closeOrder(OrderController.java:87)', 'org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)', 'jakarta.servlet.http.HttpServlet.service(HttpServlet.java:614)', 'org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)', 'org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun(NioEndpoint.java:1744)', 'java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)', 'java.base/java.lang.Thread.run(Thread.java:840)'];
const T0 = Date.UTC(2025, 10, 23, 19, 0, 0);

type Kind = 'access' | 'app' | 'json' | 'short' | 'stack' | 'utf8';
/** Cumulative weights out of 1000; together they average about 200 bytes a line. */
const KINDS: [Kind, number][] = [['access', 400], ['app', 650], ['json', 800], ['short', 960], ['stack', 985], ['utf8', 1000]];

function line(r: Random, kind: Kind, i: number): string {
  const t = new Date(T0 + i * 3);
  const iso = t.toISOString();
  switch (kind) {
    case 'access':
      return `10.${r.int(256)}.${r.int(256)}.${r.int(256)} - - [23/Nov/2025:19:${String(t.getUTCMinutes()).padStart(2, '0')}:${String(t.getUTCSeconds()).padStart(2, '0')} +0800] "${r.pick(['GET', 'GET', 'GET', 'POST'])} ${r.pick(PATHS)} HTTP/1.1" ${r.pick([200, 200, 200, 201, 304, 404, 500])} ${r.int(90000)} "https://shop.example.com/" "${r.pick(AGENTS)}" rt=${(r.int(5000) / 1000).toFixed(3)} req_id=${r.hex(16)}`;
    case 'app':
      return `${iso} ${r.pick(LEVELS).padEnd(5)} [${r.pick(SERVICES)}] [trace=${r.hex(16)}] ${r.pick(MESSAGES)}: order=${100000 + r.int(900000)} customer=${r.int(99999)} total=${r.int(50000) / 100} CNY items=${1 + r.int(9)}`;
    case 'json':
      return `{"ts":"${iso}","level":"${r.pick(LEVELS).toLowerCase()}","svc":"${r.pick(SERVICES)}","msg":"${r.pick(MESSAGES)}","attempt":${1 + r.int(3)},"latency_ms":${r.int(2500)},"user_id":"u-${r.int(1e6)}","req_id":"${r.hex(24)}","region":"cn-hangzhou"}`;
    case 'short':
      return `${iso.slice(0, 10)} ${iso.slice(11, 23)} DEBUG cache hit key=sess:${r.hex(8)} ttl=${r.int(600)}`;
    case 'stack': {
      // A stack trace as one line, the way JSON loggers escape it.
      let s = `${iso} ERROR [http-nio-8080-exec-${r.int(64)}] c.e.shop.order.OrderController - request ${r.hex(16)} failed: ${r.pick(EXCEPTIONS)}`;
      const depth = 8 + r.int(24);
      for (let d = 0; d < depth; d++) s += `\\n\\tat ${FRAMES[(d + r.int(3)) % FRAMES.length]}`;
      return s;
    }
    case 'utf8':
      return `${iso} INFO  [user-service] 用户 ${r.int(1e6)} 下单成功，订单号 ${r.hex(12)}，金额 ${r.int(50000) / 100} 元，收货地址：浙江省杭州市`;
  }
}

function kindAt(r: Random): Kind {
  const n = r.int(1000);
  for (const [kind, upTo] of KINDS) if (n < upTo) return kind;
  return 'access';
}

/** An endless, reproducible sequence of lines of every kind for one seed. */
export class LineSource {
  private readonly random: Random;
  private i = 0;
  readonly counts: Record<string, number> = {};
  constructor(seed: number) {
    this.random = new Random(seed);
  }
  /** The next line (without newline) and its size in bytes with the newline. */
  next(): { text: string; bytes: number } {
    const kind = kindAt(this.random);
    const text = line(this.random, kind, this.i++);
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    return { text, bytes: kind === 'utf8' ? Buffer.byteLength(text) + 1 : text.length + 1 };
  }
}

export interface LiveWriter {
  /** Stops appending; resolves with what was written. */
  stop(): { lines: number; bytes: number; digest: string };
}

/** Appends lines to `file` at about `bytesPerSecond`, every 100 ms, as a live application would. */
export function startLiveWriter(file: string, bytesPerSecond: number, seed: number): LiveWriter {
  const source = new LineSource(seed);
  const digest = new LineDigest();
  let lines = 0, bytes = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = ((performance.now() - started) / 1000) * bytesPerSecond;
    let text = '';
    while (bytes < due) {
      const l = source.next();
      digest.add(l.text);
      text += `${l.text}\n`;
      bytes += l.bytes;
      lines++;
    }
    if (text) appendFileSync(file, text);
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return { lines, bytes, digest: digest.value() };
    },
  };
}

/**
 * Writes `fileCount` files of about `totalBytes / fileCount` bytes each into `dir`, or reuses what an
 * earlier call with the same size left there (its manifest says so).
 */
export function writeDataset(dir: string, totalBytes: number, fileCount: number): Dataset {
  const manifest = path.join(dir, MANIFEST);
  if (existsSync(manifest)) {
    const saved = JSON.parse(readFileSync(manifest, 'utf8')) as Dataset & { version: number; requested: number };
    if (saved.version === FORMAT_VERSION && saved.requested === totalBytes && saved.files.length === fileCount && saved.files.every((f) => existsSync(f))) {
      return saved;
    }
  }
  mkdirSync(dir, { recursive: true });
  const digest = new LineDigest();
  const counts: Record<string, number> = {};
  const files: string[] = [];
  let lines = 0;
  let bytes = 0;
  const perFile = Math.ceil(totalBytes / fileCount);
  for (let f = 0; f < fileCount; f++) {
    const file = path.join(dir, `app-${f}.log`);
    files.push(file);
    const source = new LineSource(0x9e3779b9 ^ (f * 7919 + 1));
    const fd = openSync(file, 'w');
    try {
      let written = 0;
      let text = '';
      while (written < perFile) {
        const l = source.next();
        digest.add(l.text);
        text += `${l.text}\n`;
        written += l.bytes;
        lines++;
        if (text.length > 1 << 22) {
          writeSync(fd, text);
          text = '';
        }
      }
      if (text) writeSync(fd, text);
      bytes += written;
      for (const [kind, n] of Object.entries(source.counts)) counts[kind] = (counts[kind] ?? 0) + n;
    } finally {
      closeSync(fd);
    }
  }
  const mix = Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, Math.round((n / lines) * 1000) / 1000]));
  const dataset: Dataset = { dir, files, lines, bytes, digest: digest.value(), mix };
  writeFileSync(manifest, JSON.stringify({ version: FORMAT_VERSION, requested: totalBytes, ...dataset }, null, 1));
  return dataset;
}
