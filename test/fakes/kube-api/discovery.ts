// The resources the fake serves, and the discovery documents kubectl reads before `apply` (kubernetes.md §8.2).

import type { ResourceRef } from './status.js';
import type { JsonObject } from './types.js';

export interface ResourceInfo extends ResourceRef {
  version: string;
  singular: string;
  namespaced: boolean;
  verbs: readonly string[];
  shortNames?: readonly string[];
  /** Kept in the store with minimal server behaviour (create/get/list/patch/delete), for `kubectl apply`. */
  storeOnly: boolean;
}

const CRUD = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;

function r(
  group: string,
  version: string,
  plural: string,
  kind: string,
  opts: {
    namespaced?: boolean;
    verbs?: readonly string[];
    shortNames?: string[];
    storeOnly?: boolean;
  } = {},
): ResourceInfo {
  return {
    group,
    version,
    plural,
    kind,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    verbs: opts.verbs ?? CRUD,
    ...(opts.shortNames ? { shortNames: opts.shortNames } : {}),
    storeOnly: opts.storeOnly ?? true,
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'pods', 'Pod', { shortNames: ['po'], storeOnly: false }),
  r('', 'v1', 'events', 'Event', { shortNames: ['ev'], storeOnly: false }),
  r('', 'v1', 'services', 'Service', { shortNames: ['svc'] }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', { shortNames: ['sa'] }),
  r('', 'v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  r('', 'v1', 'secrets', 'Secret'),
  r('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', { shortNames: ['pvc'] }),
  r('', 'v1', 'namespaces', 'Namespace', {
    namespaced: false,
    shortNames: ['ns'],
    storeOnly: false,
  }),
  // Cluster-scoped, store-only: the capacity route lists them (tests POST the nodes they want).
  r('', 'v1', 'nodes', 'Node', { namespaced: false, shortNames: ['no'] }),
  r('apps', 'v1', 'deployments', 'Deployment', { shortNames: ['deploy'] }),
  r('batch', 'v1', 'jobs', 'Job', { storeOnly: false }),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  // kubernetes/base/networkpolicy.yaml: stored for `kubectl apply`, not enforced.
  r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', { shortNames: ['netpol'] }),
];

export function findResource(
  group: string,
  version: string,
  plural: string,
): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.group === group && x.version === version && x.plural === plural);
}

export function apiVersionOf(x: { group: string; version: string }): string {
  return x.group === '' ? x.version : `${x.group}/${x.version}`;
}

const SUBRESOURCES: Readonly<
  Record<string, readonly { name: string; verbs: readonly string[]; kind: string }[]>
> = {
  pods: [{ name: 'log', verbs: ['get'], kind: 'Pod' }],
  jobs: [{ name: 'status', verbs: ['get', 'patch', 'update'], kind: 'Job' }],
};

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const x of RESOURCES)
    if (x.group !== '') seen.set(apiVersionOf(x), { group: x.group, version: x.version });
  return [...seen.values()];
}

/** GET /api */
export function coreVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** GET /apis */
export function groupList(): JsonObject {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions().map((gv) => {
      const v = { groupVersion: apiVersionOf(gv), version: gv.version };
      return { name: gv.group, versions: [v], preferredVersion: v };
    }),
  };
}

/** GET /api/v1 and /apis/<group>/<version>; undefined for an unknown group version. */
export function resourceList(group: string, version: string): JsonObject | undefined {
  const mine = RESOURCES.filter((x) => x.group === group && x.version === version);
  if (mine.length === 0) return undefined;
  const resources: JsonObject[] = [];
  for (const x of mine) {
    resources.push({
      name: x.plural,
      singularName: x.singular,
      namespaced: x.namespaced,
      kind: x.kind,
      verbs: [...x.verbs],
      ...(x.shortNames ? { shortNames: [...x.shortNames] } : {}),
    });
    for (const sub of SUBRESOURCES[x.plural] ?? []) {
      resources.push({
        name: `${x.plural}/${sub.name}`,
        singularName: '',
        namespaced: x.namespaced,
        kind: sub.kind,
        verbs: [...sub.verbs],
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}
