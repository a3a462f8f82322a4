// v1 Services (issue 15): decode, defaults (a clusterIP from 10.96.0.0/12, a nodePort from
// 30000-32767 for type NodePort), the 422 rules a service job's manifest could break, 409.

import { randomUUID } from 'node:crypto';
import { fail, type Answer, type ApiContext } from './answer.js';
import { decodeFor, isAnswer } from './decode.js';
import { omitEmpty, serverMetadata } from './defaults.js';
import type { ResourceInfo } from './discovery.js';
import { namespaceExists } from './namespaces.js';
import { alreadyExists, invalid, namespaceNotFound } from './status.js';
import type { StatusCause } from './status.js';
import type { KubeObject } from './types.js';
import { invalidValue, required, validateLabels } from './validate.js';

export const SERVICES = '/services';
export const SERVICE_INFO = {
  group: '',
  version: 'v1',
  plural: 'services',
  kind: 'Service',
} as ResourceInfo;

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_TEXT =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

interface ServicePort {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service extends KubeObject {
  spec: {
    type?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
    clusterIP?: string;
    clusterIPs?: string[];
    [key: string]: unknown;
  };
  status?: unknown;
}

/** Decode, defaults and allocation, 422, 409, store. */
export function createService(c: ApiContext, ns: string, body: string): Answer {
  const decoded = decodeFor(body, SERVICE_INFO, ns);
  if (isAnswer(decoded)) return decoded;
  const svc = omitEmpty(decoded) as Service;
  svc.metadata ??= {};
  svc.spec ??= {};
  if (!namespaceExists(c.store, ns)) return fail(namespaceNotFound(ns));
  const name = svc.metadata.name ?? '';
  const causes = validateService(svc);
  if (causes.length > 0) return fail(invalid(SERVICE_INFO, name, causes));
  if (c.store.get(SERVICES, ns, name)) return fail(alreadyExists(SERVICE_INFO, name));
  const used = usedNodePorts(c);
  for (const p of svc.spec.ports ?? []) {
    if (p.nodePort !== undefined && used.has(p.nodePort)) {
      return fail(
        invalid(SERVICE_INFO, name, [
          invalidValue('spec.ports[0].nodePort', p.nodePort, 'provided port is already allocated'),
        ]),
      );
    }
  }
  serverMetadata(svc, randomUUID(), ns, c.clock.now());
  svc.kind = 'Service';
  svc.apiVersion = 'v1';
  const type = svc.spec.type ?? 'ClusterIP';
  const ip = allocateClusterIp(c);
  svc.spec = {
    ...svc.spec,
    type,
    clusterIP: ip,
    clusterIPs: [ip],
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    sessionAffinity: svc.spec.sessionAffinity ?? 'None',
    internalTrafficPolicy: svc.spec.internalTrafficPolicy ?? 'Cluster',
    ports: (svc.spec.ports ?? []).map((p) => ({
      ...p,
      protocol: p.protocol ?? 'TCP',
      targetPort: p.targetPort ?? p.port,
      ...(type === 'NodePort' ? { nodePort: p.nodePort ?? allocateNodePort(used) } : {}),
    })),
    ...(type === 'NodePort'
      ? { externalTrafficPolicy: svc.spec.externalTrafficPolicy ?? 'Cluster' }
      : {}),
  };
  svc.status = { loadBalancer: {} };
  return { code: 201, body: c.store.create(SERVICES, svc) };
}

function validateService(svc: Service): StatusCause[] {
  const out: StatusCause[] = [];
  const name = svc.metadata.name;
  if (!name) out.push(required('metadata.name', 'name or generateName is required'));
  else if (!DNS1035_LABEL.test(name) || name.length > 63)
    out.push(invalidValue('metadata.name', name, DNS1035_TEXT));
  out.push(...validateLabels(svc.metadata.labels, 'metadata.labels'));
  const type = svc.spec.type ?? 'ClusterIP';
  if (!TYPES.includes(type)) {
    out.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${type}": supported values: ${TYPES.map((t) => `"${t}"`).join(', ')}`,
      field: 'spec.type',
    });
  }
  const ports = svc.spec.ports ?? [];
  if (ports.length === 0 && type !== 'ExternalName') out.push(required('spec.ports'));
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535)
      out.push(invalidValue(`${path}.port`, p.port ?? 0, 'must be between 1 and 65535, inclusive'));
    if (typeof p.targetPort === 'number' && (p.targetPort < 1 || p.targetPort > 65535))
      out.push(
        invalidValue(`${path}.targetPort`, p.targetPort, 'must be between 1 and 65535, inclusive'),
      );
    if (p.nodePort !== undefined) {
      if (type === 'ClusterIP')
        out.push({
          reason: 'FieldValueForbidden',
          message: "Forbidden: may not be used when `type` is 'ClusterIP'",
          field: `${path}.nodePort`,
        });
      else if (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX)
        out.push(
          invalidValue(
            `${path}.nodePort`,
            p.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
          ),
        );
    }
    if (ports.length > 1 && !p.name) out.push(required(`${path}.name`));
  });
  return out;
}

function allServices(c: ApiContext): Service[] {
  return c.store.list(SERVICES, undefined) as Service[];
}

function usedNodePorts(c: ApiContext): Set<number> {
  return new Set(
    allServices(c).flatMap((s) =>
      (s.spec.ports ?? []).flatMap((p) => (p.nodePort === undefined ? [] : [p.nodePort])),
    ),
  );
}

function allocateNodePort(used: Set<number>): number {
  for (let port = NODE_PORT_MIN; port <= NODE_PORT_MAX; port++) {
    if (!used.has(port)) {
      used.add(port);
      return port;
    }
  }
  throw new Error('fake kube-api: no free nodePort');
}

/** The next free address from 10.96.0.10 on (10.96.0.1 is the API's own Service). */
function allocateClusterIp(c: ApiContext): string {
  const used = new Set(allServices(c).map((s) => s.spec.clusterIP));
  for (let n = 10; n < 1 << 20; n++) {
    const ip = `10.${96 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
    if (!used.has(ip)) return ip;
  }
  throw new Error('fake kube-api: no free clusterIP');
}
