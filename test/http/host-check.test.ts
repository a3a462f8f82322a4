// The Host check against DNS rebinding (issue 10, item 8): with auth off only loopback names and
// ALLOWED_HOSTS are served; a malformed Host is refused always; the probes are exempt from the list.
import { describe, expect, it } from 'vitest';
import { hostName, isLoopbackHost } from '../../src/http/middleware/host-check.js';
import { loadAuthenticator } from '../../src/http/auth.js';
import { testApp } from '../fixtures.js';
import { httpSettings } from './http-settings.js';

const get = (host: string, path = '/api/v1/') => ({ path, init: { headers: { Host: host } } });

describe('Host check with auth off', () => {
  it.each([
    '127.0.0.1',
    '127.0.0.1:5010',
    '127.8.9.10:1',
    'localhost',
    'LOCALHOST:5010',
    'localhost.',
    '[::1]',
    '[::1]:5010',
  ])('loopback %s is served', async (host) => {
    const { app } = await testApp();
    const { path, init } = get(host);
    expect((await app.request(path, init)).status).toBe(200);
  });

  it.each(['evil.example', 'evil.example:5010', '10.0.0.5', 'pman:5010', '128.0.0.1', '[::2]'])(
    '%s → 400 naming the Host header, before any route, 308 or job',
    async (host) => {
      const { app, backend } = await testApp();
      for (const p of ['/api/v1/', '/api/v1', '/api/v1/jobs/', '/api/v1/x/']) {
        const res = await app.request(p, { headers: { Host: host } });
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(await res.json()).toEqual({
          message: `Host header "${host}" is not allowed: only loopback hosts and those in ALLOWED_HOSTS are served`,
        });
      }
      const post = await app.request('/api/v1/', {
        method: 'POST',
        headers: { Host: host, 'Content-Type': 'application/json' },
        body: '{"jid": "rebound"}',
      });
      expect(post.status).toBe(400);
      expect(await backend.list()).toEqual([]);
    },
  );

  it('ALLOWED_HOSTS names (with any port), subdomains after a leading dot, and *', async () => {
    const http = httpSettings({ allowedHosts: ['pman', '.chris.svc', '10.0.0.5'] });
    const { app } = await testApp({ config: { http } });
    const status = async (host: string) =>
      (await app.request('/api/v1/', { headers: { Host: host } })).status;
    expect(await status('pman:5010')).toBe(200);
    expect(await status('PMAN')).toBe(200);
    expect(await status('chris.svc')).toBe(200);
    expect(await status('pman.chris.svc:5010')).toBe(200);
    expect(await status('10.0.0.5:5010')).toBe(200);
    expect(await status('127.0.0.1')).toBe(200); // loopback is always served
    expect(await status('pmanx')).toBe(400);
    expect(await status('evilchris.svc')).toBe(400);
    const { app: any } = await testApp({ config: { http: httpSettings({ allowedHosts: '*' }) } });
    expect((await any.request('/api/v1/', { headers: { Host: 'evil.example' } })).status).toBe(200);
  });

  it('the redirect echoes only an allowed Host', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1', { headers: { Host: 'localhost:5010' } });
    expect(res.status).toBe(308);
    expect(res.headers.get('location')).toBe('http://localhost:5010/api/v1/');
  });

  it('the probes answer any well-formed Host (kubelet sends the pod IP)', async () => {
    const { app } = await testApp();
    for (const path of ['/health', '/health/ready']) {
      expect((await app.request(path, { headers: { Host: '10.1.2.3:5010' } })).status).toBe(200);
    }
  });
});

describe('Host check with auth on', () => {
  const auth = { enabled: true, secretKey: 'a-secret-key-of-at-least-32-bytes!' } as const;

  it('any well-formed Host reaches the token check unless ALLOWED_HOSTS is set', async () => {
    const authenticator = await loadAuthenticator(auth);
    const { app } = await testApp({ config: { auth }, authenticator });
    const res = await app.request('/api/v1/', { headers: { Host: 'pman.example' } });
    expect(res.status).toBe(401);
    const http = httpSettings({ allowedHosts: ['pman'] });
    const { app: listed } = await testApp({ config: { auth, http }, authenticator });
    expect((await listed.request('/api/v1/', { headers: { Host: 'pman.example' } })).status).toBe(
      400,
    );
    expect((await listed.request('/api/v1/', { headers: { Host: 'pman' } })).status).toBe(401);
  });
});

describe('malformed Host headers', () => {
  it.each(['evil.example/x?', 'a b', 'host:port', '[::1', '[zz::1]:5010', 'a:1:2', '@evil', ''])(
    '%j → 400 whatever the settings',
    async (host) => {
      const { app } = await testApp({ config: { http: httpSettings({ allowedHosts: '*' }) } });
      const res = await app.request('/api/v1', { headers: { Host: host } });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(((await res.json()) as { message: string }).message).toMatch(/^Host header /);
    },
  );

  it('hostName and isLoopbackHost', () => {
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('Example.ORG.:443')).toBe('example.org');
    expect(hostName('x'.repeat(300))).toBeUndefined();
    expect(isLoopbackHost('127.255.255.254')).toBe(true);
    expect(isLoopbackHost('::ffff:127.0.0.1')).toBe(true); // IPv4-mapped loopback
    expect(isLoopbackHost('localhost.example')).toBe(false);
  });
});
