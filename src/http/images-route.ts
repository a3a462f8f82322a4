// GET /api/v1/images/ (issue 15): the image catalogue — what this server will run (the
// IMAGE_ALLOWLIST's lines, and the engine's local tags it admits, with their OCI labels).
// Behind the token like every /api/v1/ route; HEAD comes free (router.ts).
import type { Backend } from '../backends/backend.js';
import { imageCatalogue } from '../service/image-catalogue.js';
import type { Route } from './router.js';
import { parseImagesQuery, toWireImageCatalogue } from './wire/images.js';

export const IMAGES_PATH = '/api/v1/images/';

export function imagesRoute(
  backend: Backend,
  allowlist: readonly string[] | undefined,
  json: (status: number, value: unknown) => Response,
): Route {
  return {
    name: 'images',
    path: IMAGES_PATH,
    handlers: {
      GET: async (c) => {
        const query = parseImagesQuery(c.req.url);
        const catalogue = await imageCatalogue({ backend, allowlist }, query);
        return json(200, toWireImageCatalogue(catalogue));
      },
    },
  };
}
