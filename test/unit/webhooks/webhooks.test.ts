// Webhooks (issue 12), the pure parts: the signature, the backoff schedule, the settings, the
// callback_url refusals (no request forgery) and the body being the SSE event's JSON.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/config/errors.js';
import { checkCallbackUrl } from '../../../src/http/wire/callback-url.js';
import { statusData } from '../../../src/http/wire/events.js';
import { backoffMs } from '../../../src/service/webhooks/backoff.js';
import { deliveryBody } from '../../../src/service/webhooks/payload.js';
import type { Delivery, StoreEvent } from '../../../src/store/ledger.js';
import { deliveryHeaders, signature } from '../../../src/service/webhooks/signature.js';

const SECRET = 'k'.repeat(32);

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('signature', () => {
  it('is sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">', () => {
    // Computed independently: python3 -c "import hmac,hashlib; print(hmac.new(b'k'*32,
    //   b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())"
    expect(signature(SECRET, 1_700_000_000, '{"a":1}')).toBe(
      'sha256=6935b796c0fec66e5dee52c86c7fd1218a424c32f1adb239ff2893c31e54f033',
    );
  });

  it('sends the event id, the timestamp and the signature as headers', () => {
    expect(deliveryHeaders(SECRET, 42, 1_700_000_000, '{"a":1}')).toEqual({
      'Content-Type': 'application/json',
      'Pman-Event-Id': '42',
      'Pman-Timestamp': '1700000000',
      'Pman-Signature': signature(SECRET, 1_700_000_000, '{"a":1}'),
    });
  });
});

describe('backoff', () => {
  it('waits 1 s after the first failure, doubling, at most 10 min', () => {
    const schedule = [1, 2, 3, 4, 5, 10, 11, 100, 5000].map((n) => backoffMs(n));
    expect(schedule).toEqual([1000, 2000, 4000, 8000, 16_000, 512_000, 600_000, 600_000, 600_000]);
  });

  it('follows a shrunk schedule (tests)', () => {
    expect([1, 2, 3].map((n) => backoffMs(n, { baseMs: 10, maxMs: 25 }))).toEqual([10, 20, 25]);
  });
});

describe('the body', () => {
  it('is the JSON of the SSE status event', () => {
    const event: StoreEvent = {
      seq: 7,
      runId: 3,
      jid: 'j',
      run: 2,
      status: 'started',
      message: 'm',
      at: 0,
    };
    const d: Delivery = { ...event, id: 1, target: 'http://x/', queued: 0, attempts: 0, nextAt: 0 };
    expect(deliveryBody(d)).toBe(statusData(event));
  });
});

describe('callback_url', () => {
  const hosts = ['hooks.example.org', '127.0.0.1', '::1'];
  const refused = (raw: unknown, allowed: readonly string[] = hosts) => {
    const result = checkCallbackUrl(raw, allowed);
    return result.ok ? undefined : result.problem;
  };

  it('accepts an http(s) URL whose host is listed, exactly', () => {
    expect(checkCallbackUrl('https://hooks.example.org/x?y=1', hosts)).toEqual({
      ok: true,
      url: 'https://hooks.example.org/x?y=1',
    });
    expect(checkCallbackUrl('http://HOOKS.example.org:8080/', hosts)).toEqual({
      ok: true,
      url: 'http://hooks.example.org:8080/',
    });
    expect(checkCallbackUrl('http://[::1]:9/', hosts).ok).toBe(true);
    expect(checkCallbackUrl('http://127.0.0.1/', hosts).ok).toBe(true);
  });

  it('refuses other hosts, look-alikes, other schemes, userinfo and non-URLs', () => {
    expect(refused('http://169.254.169.254/latest/meta-data/')).toMatch(/not in WEBHOOK_ALLOWED/);
    expect(refused('http://hooks.example.org.evil.com/')).toMatch(/not in WEBHOOK_ALLOWED/);
    expect(refused('http://evil.com/hooks.example.org')).toMatch(/not in WEBHOOK_ALLOWED/);
    expect(refused('http://evil.com#@hooks.example.org/')).toMatch(/not in WEBHOOK_ALLOWED/);
    expect(refused('http://localhost/')).toMatch(/not in WEBHOOK_ALLOWED/);
    expect(refused('http://hooks.example.org@evil.com/')).toMatch(/user name or password/);
    expect(refused('http://user:pw@hooks.example.org/')).toMatch(/user name or password/);
    expect(refused('http://user@hooks.example.org/')).toMatch(/user name or password/);
    expect(refused('file:///etc/passwd')).toMatch(/http/);
    expect(refused('ftp://hooks.example.org/')).toMatch(/http/);
    expect(refused('gopher://127.0.0.1/')).toMatch(/http/);
    expect(refused('/relative')).toMatch(/absolute/);
    expect(refused(42)).toBe('must be a string');
    expect(refused('https://hooks.example.org/', [])).toMatch(/WEBHOOK_ALLOWED_HOSTS is not set/);
  });
});

describe('settings', () => {
  it('has none by default', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowedHosts: [],
      maxAgeSeconds: 86_400,
      timeoutSeconds: 10,
    });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      WEBHOOK_URL: 'http://127.0.0.1:9000/hook',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOWED_HOSTS: ' Hooks.Example.org, [::1] ,,10.0.0.7',
      WEBHOOK_MAX_AGE_SECONDS: '3600',
      WEBHOOK_TIMEOUT_SECONDS: '3',
    });
    expect(c.webhooks).toEqual({
      url: 'http://127.0.0.1:9000/hook',
      secret: SECRET,
      allowedHosts: ['hooks.example.org', '::1', '10.0.0.7'],
      maxAgeSeconds: 3600,
      timeoutSeconds: 3,
    });
  });

  it('names the variable of each problem', () => {
    expect(problems({ WEBHOOK_URL: 'http://x/' })).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: required when WEBHOOK_URL/),
    ]);
    expect(problems({ WEBHOOK_ALLOWED_HOSTS: 'x' })).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: required/),
    ]);
    expect(problems({ WEBHOOK_URL: 'http://x/', WEBHOOK_SECRET: 'short' })).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRET: must be at least 32 bytes \(it has 5\)/),
    ]);
    const s = { WEBHOOK_SECRET: SECRET };
    expect(problems({ ...s, WEBHOOK_URL: 'ftp://x/' })).toEqual([
      expect.stringMatching(/^WEBHOOK_URL: must be an http/),
    ]);
    expect(problems({ ...s, WEBHOOK_URL: 'not a url' })).toEqual([
      expect.stringMatching(/^WEBHOOK_URL: must be an absolute/),
    ]);
    expect(problems({ ...s, WEBHOOK_URL: 'http://a:b@x/' })).toEqual([
      expect.stringMatching(/^WEBHOOK_URL: must not carry/),
    ]);
    expect(problems({ ...s, WEBHOOK_MAX_AGE_SECONDS: '0' })).toEqual([
      expect.stringMatching(/^WEBHOOK_MAX_AGE_SECONDS: /),
    ]);
    expect(problems({ ...s, WEBHOOK_TIMEOUT_SECONDS: 'x' })).toEqual([
      expect.stringMatching(/^WEBHOOK_TIMEOUT_SECONDS: /),
    ]);
  });
});
