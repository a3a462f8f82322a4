// GET /api/v1/images/ (issue 15): the images this server will run, so a UI can offer them — the
// IMAGE_ALLOWLIST's lines and, on a backend that lists its engine's local images (Docker, Podman:
// Port `images`), each local tag the list admits, with the OCI labels saying what it does. Without
// an allow-list any image runs: the local images are listed as what is at hand, not as a limit.
// Swarm does not list: its manager's image store says nothing about what its nodes hold or pull.
import type { Backend, LocalImage } from '../backends/backend.js';
import { admittingEntry, describeAllowlist, normalizedImage } from '../domain/image-allowlist.js';
import type {
  AllowlistEntry,
  AllowlistEntryKind,
  ImageAllowlist,
} from '../domain/image-allowlist.js';
import { BackendUnavailableError } from '../domain/errors.js';

/** The OCI annotation keys (image-spec annotations.md) a local image's labels are read for. */
export const OCI_LABEL_PREFIX = 'org.opencontainers.image.';

/** An allow-list line: an image that may run whether or not the engine holds it yet. */
export interface AllowlistImage {
  source: 'allowlist';
  reference: string;
  kind: AllowlistEntryKind;
}

/** A locally held tag, with what its OCI labels say. */
export interface HeldImage {
  source: 'local';
  reference: string;
  id: string;
  sizeBytes: number;
  created: string;
  title?: string;
  description?: string;
  version?: string;
  /** Every `org.opencontainers.image.*` label (other labels are the builder's business). */
  ociLabels: Readonly<Record<string, string>>;
  /** The allow-list line that admits it; undefined without an allow-list. */
  allowedBy?: string;
}

export type CatalogueImage = AllowlistImage | HeldImage;

export interface ImageCatalogue {
  backend: string;
  /** The allow-list's lines in file order; undefined: IMAGE_ALLOWLIST unset, any image may run. */
  allowlist?: readonly AllowlistEntry[];
  /** Why local images are not listed (the backend has no such call, or could not answer). */
  localUnavailable?: string;
  /** Sorted by reference, then allow-list lines before local tags; filtered by the query. */
  images: CatalogueImage[];
}

export interface CatalogueQuery {
  /** Case-insensitive substring of the reference or the OCI title. */
  q?: string;
}

export interface CatalogueDeps {
  backend: Backend;
  allowlist?: ImageAllowlist | undefined;
}

/** The catalogue of the backend and allow-list: an engine that cannot be reached is a 503 as on
 *  every route; any other failure to list still answers the allow-list and says why. */
export async function imageCatalogue(
  deps: CatalogueDeps,
  query: CatalogueQuery = {},
): Promise<ImageCatalogue> {
  const { backend } = deps;
  let local: LocalImage[] | undefined;
  let localUnavailable: string | undefined;
  if (backend.images === undefined) {
    localUnavailable = `the ${backend.name} backend does not list local images`;
  } else {
    try {
      local = await backend.images();
    } catch (err) {
      if (err instanceof BackendUnavailableError) throw err;
      localUnavailable = err instanceof Error ? err.message : String(err);
    }
  }
  return {
    ...buildCatalogue(backend.name, deps.allowlist, local, query),
    ...(localUnavailable !== undefined && { localUnavailable }),
  };
}

/** The catalogue from its parts (pure): `local` undefined when the backend did not list. */
export function buildCatalogue(
  backend: string,
  allowlist: ImageAllowlist | undefined,
  local: readonly LocalImage[] | undefined,
  query: CatalogueQuery = {},
): ImageCatalogue {
  const entries = allowlist === undefined ? undefined : describeAllowlist(allowlist);
  const images: CatalogueImage[] = (entries ?? []).map((e) => ({
    source: 'allowlist',
    reference: e.pattern,
    kind: e.kind,
  }));
  const seen = new Set<string>();
  for (const image of local ?? []) {
    if (seen.has(image.reference)) continue;
    seen.add(image.reference);
    const admitting = entries === undefined ? undefined : admittingEntry(image.reference, entries);
    // With an allow-list, a tag it does not admit could not run: not in the catalogue.
    if (entries !== undefined && admitting === undefined) continue;
    images.push(heldImage(image, admitting?.pattern));
  }
  const needle = query.q?.toLowerCase();
  const found = needle === undefined ? images : images.filter((image) => matches(image, needle));
  return {
    backend,
    ...(entries !== undefined && { allowlist: entries }),
    images: found.sort(byReference),
  };
}

function heldImage(image: LocalImage, allowedBy: string | undefined): HeldImage {
  const ociLabels = Object.fromEntries(
    Object.entries(image.labels)
      .filter(([key]) => key.startsWith(OCI_LABEL_PREFIX))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const label = (name: string) => ociLabels[`${OCI_LABEL_PREFIX}${name}`];
  const title = label('title');
  const description = label('description');
  const version = label('version');
  return {
    source: 'local',
    reference: image.reference,
    id: image.id,
    sizeBytes: image.sizeBytes,
    created: image.created,
    ...(title !== undefined && { title }),
    ...(description !== undefined && { description }),
    ...(version !== undefined && { version }),
    ociLabels,
    ...(allowedBy !== undefined && { allowedBy }),
  };
}

/** A local tag is also found by its normalized name, the form the allow-list lines are shown in:
 *  `?q=docker.io/library/busybox` finds `busybox:latest` as it finds the line admitting it. */
function matches(image: CatalogueImage, needle: string): boolean {
  if (image.reference.toLowerCase().includes(needle)) return true;
  if (image.source !== 'local') return false;
  if (image.title?.toLowerCase().includes(needle) === true) return true;
  return normalizedImage(image.reference)?.toLowerCase().includes(needle) ?? false;
}

/** By reference in code-unit order (the same on every machine), allow-list lines first on a tie. */
function byReference(a: CatalogueImage, b: CatalogueImage): number {
  if (a.reference !== b.reference) return a.reference < b.reference ? -1 : 1;
  if (a.source === b.source) return 0;
  return a.source === 'allowlist' ? -1 : 1;
}
