// Namespaces: the objects startFakeKubeApi() seeds, and the existence check creates make.

import { randomUUID } from 'node:crypto';
import { resourceKey, type Store } from './store.js';
import type { KubeObject } from './types.js';

const NAMESPACES = resourceKey('', 'namespaces');

export function namespaceExists(store: Store, ns: string): boolean {
  return store.get(NAMESPACES, undefined, ns) !== undefined;
}

/** The Namespace object startFakeKubeApi() puts in the store for each configured namespace. */
export function namespaceObject(name: string): KubeObject {
  return {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: { name, uid: randomUUID() },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}
