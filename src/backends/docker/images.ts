// The engine's locally held images (GET /images/json) as the Port's LocalImage list: one entry per
// tag, for the image catalogue (issue 15). Docker and Podman's Docker-compatible API answer alike;
// Podman names its own builds `localhost/<name>:<tag>`. Pure.
import { z } from 'zod';
import type { LocalImage } from '../backend.js';

/** The parts of one GET /images/json entry we read; an entry without them is skipped. */
const imageSchema = z.object({
  Id: z.string(),
  /** null (or `<none>:<none>`) for an untagged image. */
  RepoTags: z.array(z.string()).nullish(),
  /** Unix seconds. */
  Created: z.number(),
  /** Bytes. */
  Size: z.number(),
  Labels: z.record(z.string(), z.string()).nullish(),
});

/** What the engine prints for an image without a tag. */
const UNTAGGED = '<none>:<none>';

/** The list answer → one LocalImage per tag, untagged images and malformed entries left out: an
 *  odd entry must not hide the others from the catalogue. */
export function localImagesOf(raw: unknown): LocalImage[] {
  if (!Array.isArray(raw)) return [];
  const images: LocalImage[] = [];
  for (const entry of raw) {
    const parsed = imageSchema.safeParse(entry);
    if (!parsed.success) continue;
    const { Id, RepoTags, Created, Size, Labels } = parsed.data;
    const created = new Date(Created * 1000);
    if (!Number.isFinite(created.getTime())) continue;
    for (const reference of new Set(RepoTags ?? [])) {
      if (reference === UNTAGGED || reference === '') continue;
      images.push({
        reference,
        id: Id,
        sizeBytes: Math.max(0, Size),
        created: created.toISOString(),
        labels: { ...(Labels ?? {}) },
      });
    }
  }
  return images;
}
