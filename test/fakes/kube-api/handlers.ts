// Which handler a resource request goes to, by method, name and subresource; anything else is 405.

import {
  fail,
  type ApiContext,
  type ApiRequest,
  type Outcome,
  type ResourceRoute,
} from './answer.js';
import { createJob, createStored } from './create.js';
import { createDeployment, patchDeployment } from './deployments.js';
import { createService } from './services.js';
import { deleteObject } from './delete.js';
import { podLog } from './log-route.js';
import { patchObject } from './patch.js';
import { patchJob } from './job-patch.js';
import { getObject, listObjects, watchObjects } from './reads.js';
import { methodNotAllowed } from './status.js';

export class ResourceHandlers {
  readonly #c: ApiContext;

  constructor(c: ApiContext) {
    this.#c = c;
  }

  handle(r: ResourceRoute, req: ApiRequest): Outcome {
    const { info } = r;
    const watch = req.query.watch === 'true' || req.query.watch === '1';
    switch (req.method) {
      case 'GET':
        if (r.name === undefined)
          return watch ? watchObjects(r, req) : listObjects(this.#c, r, req);
        if (r.sub === 'log' && info.plural === 'pods')
          return podLog(this.#c, r.namespace ?? '', r.name, req.query);
        if (r.sub !== undefined) return fail(methodNotAllowed());
        return getObject(this.#c, r, r.name);
      case 'POST':
        if (r.name !== undefined) return fail(methodNotAllowed());
        if (info.plural === 'jobs') return createJob(this.#c, r.namespace ?? '', req.body);
        if (info.plural === 'deployments')
          return createDeployment(this.#c, r.namespace ?? '', req.body);
        if (info.plural === 'services') return createService(this.#c, r.namespace ?? '', req.body);
        if (info.storeOnly || info.plural === 'namespaces')
          return createStored(this.#c, r, req.body);
        return fail(methodNotAllowed());
      case 'DELETE':
        if (r.name === undefined || r.sub !== undefined) return fail(methodNotAllowed());
        return deleteObject(this.#c, info, r.namespace, r.name, req.query, req.body);
      case 'PATCH':
        if (info.plural === 'jobs' && r.name !== undefined && r.sub === undefined)
          return patchJob(this.#c, r.namespace ?? '', r.name, req);
        if (info.plural === 'deployments' && r.name !== undefined && r.sub === undefined)
          return patchDeployment(this.#c, r.namespace ?? '', r.name, req);
        if (!info.storeOnly || r.name === undefined || r.sub !== undefined)
          return fail(methodNotAllowed());
        return patchObject(this.#c, r, r.name, req);
      default:
        return fail(methodNotAllowed());
    }
  }
}
