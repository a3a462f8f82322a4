// The route-table entries of /openapi.json, /docs and /ui/ (issue 14), appended to routes.ts's
// table by app.ts. Open (no token): they hold no job data — the pages call the API with the token
// the user types in. /openapi.json describes the table it is part of, generated once per app.
import type { BackendName } from '../../backends/backend.js';
import type { JobNameRule } from '../../domain/capabilities.js';
import { NOT_FOUND_TEXT } from '../middleware/path-rules.js';
import type { HttpContext, Route } from '../router.js';
import { jsonResponse } from '../wire/response.js';
import { assetSets, readAsset } from './assets.js';
import type { Asset } from './assets.js';
import { createBodySchema } from './create-body.js';
import { buildOpenApi } from './document.js';
import { routeDocs } from './route-docs.js';

export interface DocRouteOptions {
  version: string;
  auth: boolean;
  jobName: JobNameRule;
  backend: BackendName;
}

async function serve(a: Asset): Promise<Response> {
  const bytes = await readAsset(a);
  return new Response(new Uint8Array(bytes), {
    status: 200,
    headers: { 'Content-Type': a.type, 'Cache-Control': 'no-cache' },
  });
}

function fromSet(set: ReadonlyMap<string, Asset>) {
  return (c: HttpContext): Promise<Response> => {
    const found = set.get(c.req.param('file') ?? '');
    if (found === undefined) return Promise.resolve(jsonResponse(404, { message: NOT_FOUND_TEXT }));
    return serve(found);
  };
}

/** The table with the doc routes appended; /openapi.json describes all of it. */
export function withDocRoutes(table: readonly Route[], options: DocRouteOptions): Route[] {
  const assets = assetSets();
  let document: string | undefined;
  const all: Route[] = [...table];
  all.push(
    {
      name: 'openapi',
      path: '/openapi.json',
      open: true,
      handlers: {
        GET: () => {
          // Built at first request: the table is complete by then, this entry included.
          document ??=
            JSON.stringify(
              buildOpenApi(all, {
                version: options.version,
                auth: options.auth,
                docs: routeDocs({ createBody: createBodySchema(options.jobName, options.backend) }),
              }),
            ) + '\n';
          return Promise.resolve(
            new Response(document, {
              status: 200,
              headers: { 'Content-Type': 'application/json' },
            }),
          );
        },
      },
    },
    { name: 'docs', path: '/docs', open: true, handlers: { GET: () => serve(assets.docsPage) } },
    {
      name: 'docs-asset',
      path: '/docs/:file',
      open: true,
      handlers: { GET: fromSet(assets.docs) },
    },
    { name: 'ui', path: '/ui/', open: true, handlers: { GET: () => serve(assets.uiPage) } },
    { name: 'ui-asset', path: '/ui/:file', open: true, handlers: { GET: fromSet(assets.ui) } },
  );
  return all;
}
