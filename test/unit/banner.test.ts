// The server's first lines (issue 14, src/banner.ts): where it will listen, which backend, which
// storage and job store; then, once it listens, the URL and a command that works as configured.
// And METRICS_TOKEN's reading (src/config/metrics.ts).
import { describe, expect, it } from 'vitest';
import { readySummary, startingSummary } from '../../src/banner.js';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';
import { testConfig } from '../fixtures.js';
import { httpSettings } from '../http/http-settings.js';

describe('startingSummary', () => {
  it('names the listen address, backend, storage and job store', () => {
    const config = testConfig({
      containerEnv: 'memory',
      listen: { ip: '0.0.0.0', port: 5010 },
      stateDir: '/var/lib/pman',
      storage: { type: 'host', storeBase: '/srv/storeBase' },
    });
    const s = startingSummary(config);
    expect(s.msg).toBe(
      'pman-ts 0.1.0 starting: memory backend, storage host (STOREBASE /srv/storeBase), ' +
        'job store /var/lib/pman/pman.db; listening on 0.0.0.0:5010 once ready',
    );
    expect(s.fields).toEqual({
      backend: 'memory',
      storage: 'host (STOREBASE /srv/storeBase)',
      jobStore: '/var/lib/pman/pman.db',
      listen: '0.0.0.0:5010',
    });
  });

  it('describes each storage type and brackets an IPv6 address', () => {
    const pvc = startingSummary(
      testConfig({
        listen: { ip: '::1', port: 80 },
        storage: { type: 'kubernetes_pvc', claimName: 'storebase' },
      }),
    );
    expect(pvc.fields.storage).toBe('kubernetes_pvc (claim storebase)');
    expect(pvc.fields.listen).toBe('[::1]:80');
    const volume = startingSummary(
      testConfig({
        storage: { type: 'docker_local_volume', volumeName: 'vol', pfconSelector: 'a=b' },
      }),
    );
    expect(volume.fields.storage).toBe('docker_local_volume (volume vol)');
  });
});

describe('readySummary', () => {
  it('gives the loopback URL of a wildcard listen and a curl to try', () => {
    const s = readySummary(testConfig({ listen: { ip: '0.0.0.0', port: 5010 } }));
    expect(s.fields).toEqual({
      url: 'http://127.0.0.1:5010/api/v1/',
      next: 'curl -s http://127.0.0.1:5010/api/v1/',
    });
    expect(s.msg).toBe(
      'ready on http://127.0.0.1:5010/api/v1/ (memory backend) — try: curl -s http://127.0.0.1:5010/api/v1/',
    );
  });

  it('sends a token when authentication is on: `pman token` with SECRET_KEY, else a placeholder', () => {
    const jwt = readySummary(testConfig({ auth: { enabled: true, secretKey: 'k'.repeat(32) } }));
    expect(jwt.fields.next).toBe(
      'curl -s -H "Authorization: Bearer $(pman token)" http://127.0.0.1:5010/api/v1/',
    );
    const file = readySummary(testConfig({ auth: { enabled: true, tokenPath: '/t' } }));
    expect(file.fields.next).toContain('Bearer <token>');
  });

  it('says https when TLS is on', () => {
    const config = testConfig({ listen: { ip: '10.0.0.5', port: 8443 } });
    const tls = readySummary({
      ...config,
      http: httpSettings({ tls: { certFile: 'c', keyFile: 'k' } }),
    });
    expect(tls.fields.url).toBe('https://10.0.0.5:8443/api/v1/');
  });
});

describe('METRICS_TOKEN', () => {
  it('is absent unless set', () => {
    expect(loadConfig({ CONTAINER_ENV: 'memory' }).metrics).toEqual({});
    expect(loadConfig({ CONTAINER_ENV: 'memory', METRICS_TOKEN: ' ' }).metrics).toEqual({});
  });

  it('is kept when long enough', () => {
    const token = 'a'.repeat(16);
    expect(loadConfig({ CONTAINER_ENV: 'memory', METRICS_TOKEN: token }).metrics).toEqual({
      token,
    });
  });

  it('refuses a short token or one with spaces, naming the variable', () => {
    for (const [value, text] of [
      ['short', 'at least 16 bytes'],
      ['a b c d e f g h i j k', 'visible ASCII'],
    ] as const) {
      try {
        loadConfig({ CONTAINER_ENV: 'memory', METRICS_TOKEN: value });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        const problem = (err as ConfigError).problems.find((p) => p.startsWith('METRICS_TOKEN'));
        expect(problem).toContain(text);
      }
    }
  });
});
