// Endpoints: scheme defaults, ports, and the per-project Host header.
import { describe, expect, it } from 'vitest';
import { parseEndpoint, projectHost, tlsServerName } from '../../agent/ship/endpoint.js';

describe('parseEndpoint', () => {
  it('an emulator URL keeps its port, and the Host carries it', () => {
    const e = parseEndpoint('http://127.0.0.1:39001');
    expect(e).toEqual({ protocol: 'http:', hostname: '127.0.0.1', port: 39001, host: '127.0.0.1:39001' });
    expect(projectHost(e, 'proj')).toBe('proj.127.0.0.1:39001');
    expect(tlsServerName(e, 'proj')).toBeUndefined();
  });

  it('a bare host name means https on 443', () => {
    const e = parseEndpoint('cn-hangzhou.log.aliyuncs.com');
    expect(e).toEqual({ protocol: 'https:', hostname: 'cn-hangzhou.log.aliyuncs.com', port: 443, host: 'cn-hangzhou.log.aliyuncs.com' });
    expect(projectHost(e, 'proj')).toBe('proj.cn-hangzhou.log.aliyuncs.com');
    // TLS is verified against the project host, which the service's wildcard certificate covers.
    expect(tlsServerName(e, 'proj')).toBe('proj.cn-hangzhou.log.aliyuncs.com');
  });

  it('https URL with a trailing slash; IPv6 literal', () => {
    expect(parseEndpoint('https://cn-shanghai.log.aliyuncs.com/').port).toBe(443);
    expect(parseEndpoint('http://[::1]:8080')).toMatchObject({ hostname: '::1', port: 8080, host: '[::1]:8080' });
  });

  it.each(['ftp://example.com', 'http://example.com/path', 'http://user:pw@example.com', 'http://exa mple.com'])('refuses %s', (bad) => {
    expect(() => parseEndpoint(bad)).toThrow(RangeError);
  });
});
