// /docs and /ui/ in a real headless browser (issue 14): Debian's chromium driven by playwright-core
// (never a downloaded browser). The pages load without a console error, every operation of
// /openapi.json is listed by the reference, and a job submitted here appears on the dashboard and
// reaches its final status there, its log following live. A screenshot is kept in artifacts/.
// With CI=true a missing chromium fails the suite; elsewhere it is skipped.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthenticator } from '../../src/http/auth.js';
import { listen } from '../../src/http/server.js';
import type { Listening } from '../../src/http/server.js';
import { sampleBody, testApp } from '../fixtures.js';
import type { TestApp } from '../fixtures.js';
import { httpSettings } from './http-settings.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const ARTIFACTS = resolve(import.meta.dirname, '../../artifacts');
/** Each browser step waits at most this long (a bound, so a failure is a message, not a hang). */
const STEP_MS = 45_000;

if (!present && process.env.CI === 'true') {
  // A missing browser must not turn the browser tests into a silent skip in CI.
  describe('browser', () => {
    it('needs chromium (apt-get install chromium; .ci/run installs it)', () => {
      expect.fail(`${CHROMIUM} is missing`);
    });
  });
}

describe.skipIf(!present)('/docs and /ui/ in headless chromium', { timeout: 120_000 }, () => {
  let t: TestApp;
  const servers: Listening[] = [];
  let browser: Browser;
  let base: string;
  let dir: string;

  /** The app on a real socket (the browser needs one); its base URL. */
  async function serve(app: TestApp): Promise<string> {
    const server = await listen({
      ip: '127.0.0.1',
      port: 0,
      http: httpSettings(),
      fetch: (req) => app.app.fetch(req),
      log: pino({ level: 'silent' }),
    });
    servers.push(server);
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return `http://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    t = await testApp();
    base = await serve(t);
    dir = await mkdtemp(join(tmpdir(), 'pman-ts-browser-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in CI's container: chromium's sandbox needs user namespaces it may not have.
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) {
      server.server.closeAllConnections();
      await new Promise((done) => server.server.close(done));
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** A page that records every console error and uncaught exception. */
  async function open(
    path: string,
    allowed: (m: ConsoleMessage) => boolean = () => false,
    at = base,
  ) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !allowed(m)) errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
    page.setDefaultTimeout(STEP_MS);
    await page.goto(at + path);
    return { page, errors };
  }

  it('/docs lists every operation of /openapi.json, with no console error', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const expected = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const { page, errors } = await open('/docs');
    await page.locator('.opblock').first().waitFor();
    // Every operation, once the reference has rendered them all (bounded by STEP_MS).
    const missing = async () => {
      const shown = await listedOperations(page);
      return expected.filter((op) => !shown.includes(op));
    };
    await expect.poll(missing, { timeout: STEP_MS }).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('/ui/ shows a submitted job live to its final status and follows its log', async () => {
    // Queue and capacity answer 404 while the server has no such route: the page then says "not
    // available", and the browser logs the 404 as a failed resource — expected, not an error.
    const optional = (m: ConsoleMessage) =>
      m.text().startsWith('Failed to load resource') &&
      /\/api\/v1\/(queue|capacity)\/$/.test(m.location().url);
    const { page, errors } = await open('/ui/', optional);
    await page.getByText('Live: following the event stream.').waitFor();

    const jid = `ui-${process.pid}`;
    const created = await fetch(`${base}/api/v1/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(sampleBody({ jid })),
    });
    expect(created.status).toBe(201);
    const row = page.locator(`tr[data-jid="${jid}"]`);
    await row.locator('.status', { hasText: 'notstarted' }).waitFor();

    t.backend.start(jid, 'first line\n');
    await row.locator('.status', { hasText: /^started$/ }).waitFor();
    // Keyboard: the job's name is a button that starts following its log.
    await page.getByRole('button', { name: `Follow the log of ${jid}` }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#log', { hasText: 'first line' }).waitFor();

    // Printed while the page follows: it must arrive live.
    t.backend.print(jid, 'second line\n');
    await page.locator('#log', { hasText: 'second line' }).waitFor();
    t.backend.finish(jid, 0);
    await row.locator('.status', { hasText: 'finishedSuccessfully' }).waitFor();
    await expect
      .poll(() => row.locator('.age time').textContent(), { timeout: STEP_MS })
      .toMatch(/^\d+ s$/);
    await page.locator('#log-state', { hasText: 'complete' }).waitFor();
    expect(await page.locator('#log').textContent()).toBe('first line\nsecond line\n');

    for (const id of ['#queue', '#capacity']) {
      // Either the server's answer (a table or a list) or a clear "not available" line.
      await page.locator(`${id} :is(table, dl, p)`).first().waitFor();
      const text = (await page.locator(id).textContent()) ?? '';
      const rendered = await page.locator(`${id} :is(table, dl)`).count();
      expect(rendered > 0 || /not available/.test(text), `${id}: ${text}`).toBe(true);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'ui.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('/ui/ with token authentication: refused without the token, live once it is typed in', async () => {
    const token = 'browser-test-token-0123456789';
    const tokenPath = join(dir, 'tokens.txt');
    await writeFile(tokenPath, `${token}\n`, { mode: 0o600 });
    const auth = { enabled: true, tokenPath } as const;
    const guarded = await testApp({
      config: { auth },
      authenticator: await loadAuthenticator(auth),
    });
    const at = await serve(guarded);
    // Every API call of the page gets 401 until the token is given: the browser logs each one.
    const refused = (m: ConsoleMessage) =>
      m.text().includes('401') || /\/api\/v1\/(queue|capacity)\/$/.test(m.location().url);
    const { page, errors } = await open('/ui/', refused, at);
    await page.getByText(/Event stream not available \(HTTP 401/).waitFor();
    await page.getByLabel(/Bearer token/).fill(token);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('Live: following the event stream.').waitFor();
    const created = await fetch(`${at}/api/v1/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(sampleBody({ jid: 'ui-auth' })),
    });
    expect(created.status).toBe(201);
    await page.locator('tr[data-jid="ui-auth"] .status', { hasText: 'notstarted' }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("pman-token")')).toBe(token);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** The little of the DOM the page function touches (tsconfig has no DOM lib: it runs in the page). */
interface Block {
  querySelector(
    selector: string,
  ): { textContent: string | null; getAttribute(name: string): string | null } | null;
}

/** "METHOD /path" of every operation Swagger UI rendered. */
async function listedOperations(page: Page): Promise<string[]> {
  return page.locator('.opblock').evaluateAll((blocks: Block[]) =>
    blocks.map((block) => {
      const method = block.querySelector('.opblock-summary-method')?.textContent ?? '';
      const path = block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
      return `${method.trim().toUpperCase()} ${path}`;
    }),
  );
}
