// GET /api/v1/images/ on the wire (issue 15): ?q= parsed, the catalogue serialized in snake_case
// like the rest of the API, and the zod schema of the answer (/openapi.json is generated from it,
// and the serializer is typed by it, so the two cannot drift).
import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import type {
  CatalogueImage,
  CatalogueQuery,
  ImageCatalogue,
} from '../../service/image-catalogue.js';
import { rejectUnknown } from './events.js';

export const IMAGES_PARAMETERS = ['q'] as const;

/** Longer than any image reference (255 + tag) or sensible title: a mistake, not a search. */
export const MAX_QUERY_CHARS = 512;

export function parseImagesQuery(url: string): CatalogueQuery {
  const params = new URL(url).searchParams;
  rejectUnknown(params, IMAGES_PARAMETERS);
  const values = params.getAll('q');
  if (values.length > 1) throw new ValidationError({ q: 'may be given once' });
  const q = values[0];
  if (q === undefined) return {};
  if (q.trim() === '') throw new ValidationError({ q: 'must not be empty' });
  if (q.length > MAX_QUERY_CHARS)
    throw new ValidationError({ q: `must be at most ${MAX_QUERY_CHARS} characters` });
  return { q: q.trim() };
}

const nullableText = (description: string) => z.string().nullable().meta({ description });

const AllowlistImage = z.strictObject({
  source: z.literal('allowlist'),
  reference: z.string().meta({
    description:
      'The allow-list line in normalized form: `busybox:1.36` is `docker.io/library/busybox:1.36`, `busybox` alone the repository `docker.io/library/busybox`.',
  }),
  kind: z.enum(['exact', 'repository', 'pattern']).meta({
    description:
      '`exact`: one image (a tag or a digest); `repository`: every tag and digest of the repository; `pattern`: whatever the `*` glob matches.',
  }),
});

const LocalImage = z.strictObject({
  source: z.literal('local'),
  reference: z.string().meta({ description: 'The tag as the engine names it.' }),
  id: z.string().meta({ description: 'The image id (`sha256:…`).' }),
  size_bytes: z.int().min(0),
  created: z.string().meta({ description: 'When the image was built: RFC 3339, UTC.' }),
  title: nullableText('The label `org.opencontainers.image.title`; null without it.'),
  description: nullableText('The label `org.opencontainers.image.description`; null without it.'),
  version: nullableText('The label `org.opencontainers.image.version`; null without it.'),
  labels: z.record(z.string(), z.string()).meta({
    description:
      'Every `org.opencontainers.image.*` label of the image (other labels are left out).',
  }),
  allowed_by: nullableText(
    'The allow-list line that admits this tag (as in `allowlist`); null when IMAGE_ALLOWLIST is unset.',
  ),
});

export const ImageCatalogueSchema = z
  .strictObject({
    container_env: z.string(),
    allowlist: z
      .array(z.strictObject({ pattern: z.string(), kind: AllowlistImage.shape.kind }))
      .nullable()
      .meta({
        description:
          'The IMAGE_ALLOWLIST lines in file order, whatever `q` says; null when it is unset: then any image may run, and `images` shows what the engine holds, not a limit.',
      }),
    local_images_unavailable: z.string().optional().meta({
      description:
        'Present when local images are not listed: the backend has no local image store to list (Swarm, Kubernetes, Slurm: the nodes pull), or it could not list it.',
    }),
    images: z.array(z.discriminatedUnion('source', [AllowlistImage, LocalImage])).meta({
      description:
        'Sorted by reference. With an allow-list: its lines, and each local tag it admits; without: every local tag.',
    }),
  })
  .meta({ id: 'ImageCatalogue' });

export type WireImageCatalogue = z.infer<typeof ImageCatalogueSchema>;
type WireImage = WireImageCatalogue['images'][number];

export function toWireImageCatalogue(c: ImageCatalogue): WireImageCatalogue {
  return {
    container_env: c.backend,
    allowlist: c.allowlist?.map((e) => ({ pattern: e.pattern, kind: e.kind })) ?? null,
    ...(c.localUnavailable !== undefined && { local_images_unavailable: c.localUnavailable }),
    images: c.images.map(toWireImage),
  };
}

function toWireImage(image: CatalogueImage): WireImage {
  if (image.source === 'allowlist')
    return { source: 'allowlist', reference: image.reference, kind: image.kind };
  return {
    source: 'local',
    reference: image.reference,
    id: image.id,
    size_bytes: image.sizeBytes,
    created: image.created,
    title: image.title ?? null,
    description: image.description ?? null,
    version: image.version ?? null,
    labels: { ...image.ociLabels },
    allowed_by: image.allowedBy ?? null,
  };
}
