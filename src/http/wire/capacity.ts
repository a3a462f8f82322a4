// GET /api/v1/capacity/ on the wire (issue 13): snake_case like the rest of the API; caps not set
// are null (unlimited), and the node totals are summed here for a quick look.
import type { CapacityReport } from '../../service/capacity.js';

export function toWireCapacity(r: CapacityReport): Record<string, unknown> {
  const nodes = r.nodes?.map((n) => ({
    name: n.name,
    cpu_millicores: n.cpuMillicores,
    memory_mib: n.memoryMiB,
    gpus: n.gpus,
  }));
  const sum = (pick: (n: NonNullable<CapacityReport['nodes']>[number]) => number): number =>
    (r.nodes ?? []).reduce((total, n) => total + pick(n), 0);
  return {
    container_env: r.backend,
    nodes: nodes ?? null,
    ...(r.nodesUnavailable !== undefined && { nodes_unavailable: r.nodesUnavailable }),
    total:
      r.nodes === undefined
        ? null
        : {
            cpu_millicores: sum((n) => n.cpuMillicores),
            memory_mib: sum((n) => n.memoryMiB),
            gpus: sum((n) => n.gpus),
          },
    running: r.running,
    running_gpus: r.runningGpus,
    queued: r.queued,
    caps: {
      max_running: r.caps.maxRunning ?? null,
      max_running_per_auid: r.caps.maxRunningPerAuid ?? null,
      max_gpus: r.caps.maxGpus ?? null,
      cancel_grace_seconds: r.cancelGraceSeconds,
      job_deadline_seconds: r.jobDeadlineSeconds ?? null,
    },
  };
}
