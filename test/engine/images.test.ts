// The image catalogue on the real Docker engine (issue 15): three local images built for this run
// from the test image, with OCI labels, and a server whose IMAGE_ALLOWLIST admits two of them. The
// catalogue lists the allow-list's lines and the two admitted tags with their title, description,
// version, size and creation time as the engine has them; the third tag and the test image stay
// out; ?q= finds by title and by name; the create path admits and refuses the same tags. Without
// IMAGE_ALLOWLIST every local tag is listed and `allowlist` is null. The images are removed after,
// even on failure. The same on Podman, whose own images are named `localhost/<name>`.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEngine } from './engine-available.js';
import { PODMAN_HOST, requirePodman } from './podman-available.js';
import { startServer, type ServerProcess } from './server-process.js';
import { shellJobBody, TEST_IMAGE } from './shell-job.js';

const engineUp = await requireEngine();
const podmanUp = await requirePodman();
const OCI = 'org.opencontainers.image.';

type Json = Record<string, unknown>;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** The podman CLI on the socket the podman backend uses (scripts/podman-up.sh). */
function podman(...args: string[]): string {
  const url = ['--remote', '--url', PODMAN_HOST];
  return execFileSync('podman', [...url, ...args], { encoding: 'utf8' }).trim();
}

/** A local image from the test image with these OCI labels (commit: no build, no pull). */
function labelledImage(
  tag: string,
  labels: Record<string, string>,
  engine: (...args: string[]) => string = docker,
): void {
  const container = engine('create', TEST_IMAGE, 'true');
  try {
    // One --change per label: Podman reads a multi-pair LABEL line as one value.
    const changes = Object.entries(labels).flatMap(([key, value]) => [
      '--change',
      `LABEL ${JSON.stringify(key)}=${JSON.stringify(value)}`,
    ]);
    engine('commit', ...changes, container, tag);
  } finally {
    engine('rm', '-f', container);
  }
}

describe.skipIf(!engineUp)('GET /api/v1/images/ on Docker', () => {
  const run = `pman-cat-${randomBytes(3).toString('hex')}`;
  const algoA = `${run}/algo-a:1.0`;
  const algoB = `${run}/algo-b:2`;
  const other = `${run}-other/tool:1`;
  let dir: string;
  let storeBase: string;
  let server: ServerProcess | undefined;
  let open: ServerProcess | undefined;

  const catalogue = async (s: ServerProcess | undefined, query = ''): Promise<Json> => {
    const res = await fetch(`${s?.url ?? ''}/api/v1/images/${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Json;
  };
  const images = (body: Json) => body.images as Json[];
  const refs = (body: Json) => images(body).map((i) => i.reference);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-images-'));
    storeBase = path.join(dir, 'storeBase');
    await mkdir(storeBase);
    labelledImage(algoA, {
      [`${OCI}title`]: 'Brain Align',
      [`${OCI}description`]: 'Aligns brain scans to an atlas',
      [`${OCI}version`]: '1.0.4',
      [`${OCI}licenses`]: 'MIT',
      'com.example.not-oci': 'left out',
    });
    labelledImage(algoB, {
      [`${OCI}title`]: 'MRI Denoise',
      [`${OCI}description`]: 'Removes noise from MRI slices',
      [`${OCI}version`]: '2.0.0',
    });
    labelledImage(other, { [`${OCI}title`]: 'Not Allowed Tool' });
    const allowlist = path.join(dir, 'allowlist.txt');
    await writeFile(
      allowlist,
      `# this run's algorithms\n${run}/*\nbusybox:1.36\nfnndsc/pl-dircopy\n`,
    );
    const env = { CONTAINER_ENV: 'docker', STORAGE_TYPE: 'host', STOREBASE: storeBase };
    server = await startServer({ ...env, IMAGE_ALLOWLIST: allowlist, INSTANCE_ID: run });
    open = await startServer({ ...env, INSTANCE_ID: `${run}-open` });
  });

  afterAll(async () => {
    await server?.stop();
    await open?.stop();
    try {
      const ids = docker('ps', '-aq', '--filter', `label=org.chrisproject.managed-by=pman-${run}`);
      if (ids !== '') docker('rm', '-f', ...ids.split('\n'));
    } catch {
      // nothing left
    }
    for (const tag of [algoA, algoB, other]) {
      try {
        docker('rmi', '-f', tag);
      } catch {
        // never built, or gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the allow-list lines and the admitted local tags with their OCI labels', async () => {
    const body = await catalogue(server);
    expect(body.container_env).toBe('docker');
    expect(body).not.toHaveProperty('local_images_unavailable');
    expect(body.allowlist).toEqual([
      { pattern: `docker.io/${run}/*`, kind: 'pattern' },
      { pattern: 'docker.io/library/busybox:1.36', kind: 'exact' },
      { pattern: 'docker.io/fnndsc/pl-dircopy', kind: 'repository' },
    ]);
    // Sorted by reference; the other tag and the test image are held but not admitted.
    expect(refs(body)).toEqual([
      'docker.io/fnndsc/pl-dircopy',
      'docker.io/library/busybox:1.36',
      `docker.io/${run}/*`,
      algoA,
      algoB,
    ]);
    expect(refs(body)).not.toContain(other);
    expect(refs(body)).not.toContain(TEST_IMAGE);
    const a = images(body).find((i) => i.reference === algoA);
    const inspected = JSON.parse(docker('image', 'inspect', algoA)) as Array<{
      Id: string;
      Size: number;
      Created: string;
    }>;
    const engine = inspected[0];
    expect(a).toEqual({
      source: 'local',
      reference: algoA,
      id: engine?.Id,
      size_bytes: engine?.Size,
      // The list answers whole seconds.
      created: new Date(Math.floor(Date.parse(engine?.Created ?? '') / 1000) * 1000).toISOString(),
      title: 'Brain Align',
      description: 'Aligns brain scans to an atlas',
      version: '1.0.4',
      labels: {
        [`${OCI}description`]: 'Aligns brain scans to an atlas',
        [`${OCI}licenses`]: 'MIT',
        [`${OCI}title`]: 'Brain Align',
        [`${OCI}version`]: '1.0.4',
      },
      allowed_by: `docker.io/${run}/*`,
    });
    expect(a?.size_bytes).toBeGreaterThan(0);
    expect(images(body).find((i) => i.reference === algoB)).toMatchObject({
      title: 'MRI Denoise',
      description: 'Removes noise from MRI slices',
      version: '2.0.0',
    });
  });

  it('?q= finds by title and by name, in any case', async () => {
    expect(refs(await catalogue(server, '?q=brain'))).toEqual([algoA]);
    expect(refs(await catalogue(server, '?q=ALGO-B'))).toEqual([algoB]);
    // The refused tag is not found by its title either.
    expect(refs(await catalogue(server, '?q=not%20allowed'))).toEqual([]);
    const res = await fetch(`${server?.url ?? ''}/api/v1/images/?query=x`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: { query: 'is not a parameter of this route (q)' },
    });
  });

  it('the create path admits the listed tags and refuses the others', async () => {
    const jid = `${run}-job`;
    await mkdir(path.join(storeBase, `key-${jid}`, 'incoming'), { recursive: true });
    const post = (body: Json) =>
      fetch(`${server?.url ?? ''}/api/v1/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await post(shellJobBody(`${jid}-x`, 'true', { image: other }));
    expect(refused.status, await refused.clone().text()).toBe(403);
    const created = await post(shellJobBody(jid, 'true', { image: algoA }));
    expect(created.status, await created.clone().text()).toBe(201);
    const deleted = await fetch(`${server?.url ?? ''}/api/v1/${jid}/`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
  });

  it('without IMAGE_ALLOWLIST: every local tag, allowlist null', async () => {
    const body = await catalogue(open);
    expect(body.allowlist).toBeNull();
    expect(refs(body)).toEqual(expect.arrayContaining([algoA, algoB, other, TEST_IMAGE]));
    expect(images(body).every((i) => i.source === 'local' && i.allowed_by === null)).toBe(true);
    const sorted = [...refs(body)].sort((x, y) => (String(x) < String(y) ? -1 : 1));
    expect(refs(body)).toEqual(sorted);
    expect(refs(await catalogue(open, `?q=${run}-other`))).toEqual([other]);
  });
});

describe.skipIf(!podmanUp)('GET /api/v1/images/ on Podman', () => {
  const run = `pman-cat-${randomBytes(3).toString('hex')}`;
  // Podman names what it commits or builds `localhost/<name>`.
  const algo = `localhost/${run}/algo:3`;
  const other = `localhost/${run}-other/tool:1`;
  let dir: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-images-podman-'));
    await mkdir(path.join(dir, 'storeBase'));
    labelledImage(algo, { [`${OCI}title`]: 'Podman Algo', [`${OCI}version`]: '3.1.0' }, podman);
    labelledImage(other, { [`${OCI}title`]: 'Podman Other' }, podman);
    const allowlist = path.join(dir, 'allowlist.txt');
    await writeFile(allowlist, `localhost/${run}/*\n`);
    server = await startServer({
      CONTAINER_ENV: 'podman',
      PODMAN_HOST,
      STORAGE_TYPE: 'host',
      STOREBASE: path.join(dir, 'storeBase'),
      IMAGE_ALLOWLIST: allowlist,
      INSTANCE_ID: run,
    });
  });

  afterAll(async () => {
    await server?.stop();
    for (const tag of [algo, other]) {
      try {
        podman('rmi', '-f', tag);
      } catch {
        // never built, or gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the admitted local tag with its labels, not the other', async () => {
    const res = await fetch(`${server?.url ?? ''}/api/v1/images/`);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.container_env).toBe('podman');
    const images = body.images as Json[];
    expect(images.map((i) => i.reference)).toEqual([`localhost/${run}/*`, algo]);
    expect(images[1]).toMatchObject({
      source: 'local',
      title: 'Podman Algo',
      description: null,
      version: '3.1.0',
      allowed_by: `localhost/${run}/*`,
    });
    expect(images[1]?.size_bytes).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(String(images[1]?.created)))).toBe(false);
  });
});
