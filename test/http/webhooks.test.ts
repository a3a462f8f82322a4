// Webhooks over HTTP (issue 12): callback_url in the create body (only hosts of
// WEBHOOK_ALLOWED_HOSTS, else a 400 naming the field; kept with the run, never on the pman wire)
// and GET /api/v1/webhooks/ (per target: pending, oldest age, last error, counts).
import { describe, expect, it } from 'vitest';
import { postJson, sampleBody, testApp } from '../fixtures.js';

const webhooks = {
  url: 'http://127.0.0.1:9/all',
  secret: 's'.repeat(32),
  allowedHosts: ['127.0.0.1', 'hooks.example.org'],
  maxAgeSeconds: 86_400,
  timeoutSeconds: 10,
};

describe('callback_url', () => {
  it('is kept with the run when its host is allowed; the answer is pman’s', async () => {
    const t = await testApp({ config: { webhooks } });
    const plain = await postJson(t.app, sampleBody({ jid: 'plain' }));
    const res = await postJson(
      t.app,
      sampleBody({ jid: 'cb', callback_url: 'http://127.0.0.1:8123/cb?x=1' }),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      Object.keys((await plain.json()) as Record<string, unknown>).sort(),
    );
    expect(t.ledger.current('cb')?.spec.callbackUrl).toBe('http://127.0.0.1:8123/cb?x=1');
    expect(t.ledger.current('plain')?.spec).not.toHaveProperty('callbackUrl');
    t.ledger.close();
  });

  it.each([
    ['http://169.254.169.254/latest/', /not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://localhost:8123/', /not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://127.0.0.1.nip.io/', /not in WEBHOOK_ALLOWED_HOSTS/],
    ['http://u:p@127.0.0.1/', /user name or password/],
    ['file:///etc/passwd', /http/],
    ['not a url', /absolute/],
    [42, /must be a string/],
  ])('refuses %s with a 400 naming callback_url', async (url, text) => {
    const t = await testApp({ config: { webhooks } });
    const res = await postJson(t.app, sampleBody({ jid: 'cb', callback_url: url }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: Record<string, string> };
    expect(body.message.callback_url).toMatch(text);
    expect(t.ledger.current('cb')).toBeUndefined();
    t.ledger.close();
  });

  it('is refused when WEBHOOK_ALLOWED_HOSTS is not set', async () => {
    const t = await testApp();
    const res = await postJson(t.app, sampleBody({ callback_url: 'http://127.0.0.1/' }));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/callback_url.*WEBHOOK_ALLOWED_HOSTS/);
    t.ledger.close();
  });

  it('"webhooks" is a reserved jid', async () => {
    const t = await testApp();
    const res = await postJson(t.app, sampleBody({ jid: 'webhooks' }));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/reserved/);
    t.ledger.close();
  });
});

describe('GET /api/v1/webhooks/', () => {
  it('lists WEBHOOK_URL before any delivery', async () => {
    const t = await testApp({ config: { webhooks } });
    const res = await t.app.request('/api/v1/webhooks/');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      targets: [
        {
          url: webhooks.url,
          pending: 0,
          oldest_pending_age_seconds: null,
          last_error: null,
          last_error_at: null,
          delivered: 0,
          failed: 0,
        },
      ],
    });
    t.ledger.close();
  });

  it('shows each target’s pending deliveries, oldest age and last error', async () => {
    const t = await testApp({ config: { webhooks } });
    t.ledger.setWebhookTargets([webhooks.url]);
    await postJson(t.app, sampleBody({ jid: 'a', callback_url: 'http://hooks.example.org/a' }));
    await postJson(t.app, sampleBody({ jid: 'b' }));
    const [first] = t.ledger.outbox.due(Number.MAX_SAFE_INTEGER, 1, new Set());
    if (first === undefined) throw new Error('nothing queued');
    await t.ledger.outbox.retry(first, 'HTTP 503', Date.UTC(2030, 0, 1), Date.now() + 60_000);
    const res = await t.app.request('/api/v1/webhooks/');
    const body = (await res.json()) as { targets: Array<Record<string, unknown>> };
    expect(body.targets).toEqual([
      expect.objectContaining({
        url: 'http://127.0.0.1:9/all',
        pending: 2,
        last_error: 'HTTP 503',
      }),
      expect.objectContaining({ url: 'http://hooks.example.org/a', pending: 1, last_error: null }),
    ]);
    expect(body.targets[0]).toMatchObject({
      last_error_at: '2030-01-01T00:00:00.000Z',
      delivered: 0,
      failed: 0,
    });
    expect(body.targets[0]?.oldest_pending_age_seconds).toEqual(expect.any(Number));
    t.ledger.close();
  });
});
