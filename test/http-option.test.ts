import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, parseHttpOption } from '../src/http.js';

describe('--http host:port | off', () => {
  it('defaults to loopback 9464, accepts host:port, [v6]:port, a port, and off', () => {
    expect(parseHttpOption(undefined)).toEqual({ host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT });
    expect(DEFAULT_HTTP_HOST).toBe('127.0.0.1');
    expect(DEFAULT_HTTP_PORT).toBe(9464);
    expect(parseHttpOption('127.0.0.1:9100')).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(parseHttpOption('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseHttpOption('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseHttpOption('9200')).toEqual({ host: '127.0.0.1', port: 9200 });
    expect(parseHttpOption('off')).toBeUndefined();
  });

  it('refuses anything else with ARCHIVER_USAGE', () => {
    for (const bad of ['', 'on', '127.0.0.1', '127.0.0.1:', ':9464', '127.0.0.1:70000', '::1:9464', 'host:port', '1.2.3.4:12:34']) {
      expect(() => parseHttpOption(bad), bad).toThrow(expect.objectContaining({ code: 'ARCHIVER_USAGE' }));
    }
  });
});
