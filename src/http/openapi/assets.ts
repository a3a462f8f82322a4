// The files /docs and /ui/ serve: the dashboard's own (ui/ at the package root) and Swagger UI's
// (from its npm package, no CDN). A fixed list: a request names an entry, never a path, so no
// traversal is possible. Read at first use and kept: they are small and never change while running.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  path: string;
  type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  png: 'image/png',
};

/** The package root: the first folder up from this file with a package.json (src/… or dist/src/…). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new Error('pman-ts: no package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

function asset(dir: string, name: string): Asset {
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return { path: join(dir, name), type: TYPES[ext] ?? 'application/octet-stream' };
}

export interface AssetSets {
  /** The dashboard page (/ui/) and its files (/ui/<file>). */
  uiPage: Asset;
  ui: ReadonlyMap<string, Asset>;
  /** The reference page (/docs) and its files (/docs/<file>). */
  docsPage: Asset;
  docs: ReadonlyMap<string, Asset>;
}

export function assetSets(): AssetSets {
  const ui = join(packageRoot(), 'ui');
  const swagger = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return {
    uiPage: asset(ui, 'index.html'),
    ui: new Map(['app.js', 'app.css'].map((name) => [name, asset(ui, name)])),
    docsPage: asset(ui, 'docs.html'),
    docs: new Map([
      ['docs.js', asset(ui, 'docs.js')],
      ['swagger-ui.css', asset(swagger, 'swagger-ui.css')],
      ['swagger-ui-bundle.js', asset(swagger, 'swagger-ui-bundle.js')],
      ['favicon-32x32.png', asset(swagger, 'favicon-32x32.png')],
    ]),
  };
}

const cache = new Map<string, Promise<Buffer>>();

/** The file's bytes; a failed read is not kept, so a later request tries again. */
export function readAsset(a: Asset): Promise<Buffer> {
  let bytes = cache.get(a.path);
  if (bytes === undefined) {
    bytes = readFile(a.path);
    cache.set(a.path, bytes);
    bytes.catch(() => cache.delete(a.path));
  }
  return bytes;
}
