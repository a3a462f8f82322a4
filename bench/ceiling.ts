// The ceiling of a status GET on this machine: a bare node:http server, in its own process like
// pman-ts, answering every request with one fixed job object (the bytes pman-ts answered for the
// same finished job), so the ratio pman-ts / ceiling says what our layers cost, not the hardware.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../test/engine/server-process.js';

/** Plain JavaScript for `node -e`: no loader, no framework, nothing but node:http. */
const SERVER_SOURCE = `
const http = require('node:http');
const body = Buffer.from(process.env.CEILING_BODY || '{}');
http
  .createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  })
  .listen(Number(process.env.CEILING_PORT), '127.0.0.1');
`;

export interface CeilingServer {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startCeiling(body: string): Promise<CeilingServer> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['-e', SERVER_SOURCE], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CEILING_PORT: String(port),
      CEILING_BODY: body,
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error('the ceiling server did not start');
    }
    await delay(50);
  }
  return {
    url,
    proc,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}
