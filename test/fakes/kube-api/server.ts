// The HTTP edge: request recording, injected faults, bearer auth, RBAC denials, routing, and writing answers.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { coreVersions, groupList, resourceList } from './discovery.js';
import type { Faults } from './faults.js';
import { serveFollow } from './follow.js';
import type { Answer } from './answer.js';
import type { ResourceHandlers } from './handlers.js';
import { route, verbOf } from './routes.js';
import { forbidden, injected, pathNotFound, unauthorized, type StatusError } from './status.js';
import type { FaultAnswer, JsonObject, RecordedRequest } from './types.js';
import type { ExpiredForm, Watches } from './watch.js';

export interface ServerParts {
  handlers: ResourceHandlers;
  watches: Watches;
  faults: Faults;
  token: string | undefined;
  serverVersion: `1.${number}`;
  requests: RecordedRequest[];
  now: () => Date;
  /** How an expired watch resourceVersion is answered (changed by expireResourceVersions()). */
  expiredForm: () => ExpiredForm;
  /** Responses deliberately left hanging, ended by close(). */
  hanging: Set<ServerResponse>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, a: Answer): void {
  const isText = Buffer.isBuffer(a.body);
  const payload = isText ? a.body : Buffer.from(JSON.stringify(a.body));
  res.writeHead(a.code, {
    'Content-Type': isText ? 'text/plain' : 'application/json',
    'Content-Length': String(payload.length),
    ...a.headers,
  });
  res.end(payload);
}

function sendError(res: ServerResponse, e: StatusError): void {
  send(res, { code: e.code, body: e.body, ...(e.headers ? { headers: e.headers } : {}) });
}

export function versionInfo(v: `1.${number}`): JsonObject {
  const minor = v.slice(2);
  return {
    major: '1',
    minor,
    gitVersion: `v1.${minor}.0`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2024-08-13T07:28:49Z',
    goVersion: 'go1.22.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function applyFault(
  res: ServerResponse,
  req: IncomingMessage,
  answer: FaultAnswer,
  hanging: Set<ServerResponse>,
): void {
  if (answer === 'hang') {
    hanging.add(res);
    res.on('close', () => hanging.delete(res));
    return;
  }
  if (answer === 'reset') {
    req.socket.resetAndDestroy();
    return;
  }
  sendError(res, injected(answer.code, answer.retryAfter));
}

export function createHandler(p: ServerParts): (req: IncomingMessage, res: ServerResponse) => void {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    const query = Object.fromEntries(url.searchParams.entries());
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    p.requests.push({ method, path: url.pathname, query, headers, body, time: p.now() });

    const fault = p.faults.take(method, url.pathname);
    if (fault) return applyFault(res, req, fault, p.hanging);
    if (p.token !== undefined && headers.authorization !== `Bearer ${p.token}`) {
      return sendError(res, unauthorized());
    }
    const r = route(url.pathname);
    switch (r.kind) {
      case 'version':
        return send(res, { code: 200, body: versionInfo(p.serverVersion) });
      case 'discovery': {
        if (method !== 'GET') return sendError(res, pathNotFound());
        const host = req.headers.host ?? '127.0.0.1';
        const doc =
          r.doc === 'api'
            ? coreVersions(host)
            : r.doc === 'apis'
              ? groupList()
              : resourceList(r.group, r.version);
        return doc ? send(res, { code: 200, body: doc }) : sendError(res, pathNotFound());
      }
      case 'unknown':
        return sendError(res, pathNotFound());
      case 'resource': {
        const watch = query.watch === 'true' || query.watch === '1';
        const verb = verbOf(method, r, watch);
        const rbacResource = r.sub ? `${r.info.plural}/${r.sub}` : r.info.plural;
        if (p.faults.isDenied(verb, rbacResource)) {
          const user = `system:serviceaccount:${r.namespace ?? 'default'}:pman`;
          return sendError(res, forbidden(r.info, verb, r.namespace, r.name, r.sub, user));
        }
        const out = p.handlers.handle(r, {
          method,
          query,
          body,
          contentType: headers['content-type'] ?? '',
        });
        if ('watch' in out) return p.watches.serve(out.watch, res, p.expiredForm());
        if ('follow' in out) return serveFollow(out.follow, res, p.hanging);
        return send(res, out);
      }
    }
  };
  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A bug in the fake: answer like an API server's panic handler, and keep the stack for the test log.
      console.error('fake kube-api:', e);
      if (!res.headersSent) sendError(res, injected(500));
    });
  };
}
