// OpenShift restricted-v2 admission (kubernetes.md §8.8): which pods the SCC refuses, and what an admitted pod gets.

import type { Container, PodSpec } from './types.js';

/** Volume types restricted-v2 allows; anything else (hostPath included) is refused. */
const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** The SCC violations of one pod spec, each as `<path>: Invalid value: <v>: <why>`. */
export function sccViolations(spec: PodSpec, range: readonly [number, number]): string[] {
  const [lo, hi] = range;
  const out: string[] = [];
  const inRange = (v: number): boolean => v >= lo && v <= hi;
  const ranges = `must be in the ranges: [${lo}, ${hi}]`;
  const psc = spec.securityContext ?? {};
  if (psc.runAsUser !== undefined && !inRange(psc.runAsUser)) {
    out.push(`.spec.securityContext.runAsUser: Invalid value: ${psc.runAsUser}: ${ranges}`);
  }
  if (psc.runAsGroup !== undefined && !inRange(psc.runAsGroup)) {
    out.push(`.spec.securityContext.runAsGroup: Invalid value: ${psc.runAsGroup}: ${ranges}`);
  }
  if (psc.fsGroup !== undefined && !inRange(psc.fsGroup)) {
    out.push(
      `.spec.securityContext.fsGroup: Invalid value: []int64{${psc.fsGroup}}: ${psc.fsGroup} is not an allowed group`,
    );
  }
  if (spec.hostNetwork === true)
    out.push(
      '.spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used',
    );
  if (spec.hostPID === true)
    out.push(
      '.spec.securityContext.hostPID: Invalid value: true: Host PID is not allowed to be used',
    );
  if (spec.hostIPC === true)
    out.push(
      '.spec.securityContext.hostIPC: Invalid value: true: Host IPC is not allowed to be used',
    );
  (spec.volumes ?? []).forEach((v, i) => {
    const type = Object.keys(v).find((k) => k !== 'name') ?? '';
    if (!ALLOWED_VOLUMES.has(type)) {
      out.push(
        `spec.volumes[${i}]: Invalid value: "${type}": ${type} volumes are not allowed to be used`,
      );
    }
  });
  const check = (c: Container, path: string): void => {
    const sc = c.securityContext ?? {};
    if (sc.runAsUser !== undefined && !inRange(sc.runAsUser))
      out.push(`${path}.runAsUser: Invalid value: ${sc.runAsUser}: ${ranges}`);
    if (sc.runAsGroup !== undefined && !inRange(sc.runAsGroup))
      out.push(`${path}.runAsGroup: Invalid value: ${sc.runAsGroup}: ${ranges}`);
    if (sc.privileged === true)
      out.push(`${path}.privileged: Invalid value: true: Privileged containers are not allowed`);
    if (sc.allowPrivilegeEscalation !== false) {
      out.push(
        `${path}.allowPrivilegeEscalation: Invalid value: ${sc.allowPrivilegeEscalation ?? 'nil'}: Allowing privilege escalation for containers is not allowed`,
      );
    }
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE')
        out.push(`${path}.capabilities.add: Invalid value: "${cap}": capability may not be added`);
    }
    for (const p of c.ports ?? []) {
      if (p.hostPort)
        out.push(
          `${path}.hostPort: Invalid value: ${p.hostPort}: Host ports are not allowed to be used`,
        );
    }
  };
  (spec.initContainers ?? []).forEach((c, i) => check(c, `.initContainers[${i}]`));
  (spec.containers ?? []).forEach((c, i) => check(c, `.containers[${i}]`));
  return out;
}

/** The FailedCreate text for a refused pod of Job `job`. */
export function sccRefusal(job: string, violations: readonly string[]): string {
  const reasons = violations.map((v) => `provider restricted-v2: ${v}`).join(', ');
  return `pods "${job}-" is forbidden: unable to validate against any security context constraint: [provider "anyuid": Forbidden: not usable by user or serviceaccount, ${reasons}]`;
}

/** What admission sets on an admitted pod: the range's first UID where none is set, and the SCC annotation. */
export function admit(spec: PodSpec, range: readonly [number, number]): PodSpec {
  return {
    ...spec,
    containers: (spec.containers ?? []).map((c) => ({
      ...c,
      securityContext: {
        ...c.securityContext,
        runAsUser: c.securityContext?.runAsUser ?? range[0],
      },
    })),
  };
}

export const SCC_ANNOTATION = { 'openshift.io/scc': 'restricted-v2' } as const;
