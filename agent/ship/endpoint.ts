// Where SLS requests go: parses the configured endpoint and names the per-project virtual host.
import { isIP } from 'node:net';

export interface Endpoint {
  protocol: 'http:' | 'https:';
  /** What to connect to (no brackets around an IPv6 literal). */
  hostname: string;
  port: number;
  /** host[:port] as written in the endpoint; `<project>.` + this is the Host header. */
  host: string;
}

/** `http://127.0.0.1:PORT`, `https://cn-hangzhou.log.aliyuncs.com`, or a bare host name (meaning https). */
export function parseEndpoint(endpoint: string): Endpoint {
  const text = endpoint.trim();
  const shown = text.replace(/\/\/[^/@]*@/, '//***@'); // never echo a password back
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new RangeError(`SLS endpoint "${shown}" is not a URL or host name`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`SLS endpoint "${shown}" must use http or https`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new RangeError(`SLS endpoint "${shown}" must be a scheme and host only, without a path or credentials`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { protocol: url.protocol, hostname, port, host: url.host };
}

/** The Host header SLS routes on: the project is the first label. */
export function projectHost(endpoint: Endpoint, project: string): string {
  return `${project}.${endpoint.host}`;
}

/** TLS server name to present and verify: the project host, unless the endpoint is an IP literal. */
export function tlsServerName(endpoint: Endpoint, project: string): string | undefined {
  if (endpoint.protocol !== 'https:' || isIP(endpoint.hostname) !== 0) return undefined;
  return `${project}.${endpoint.hostname}`;
}
