// toJobSpec: a validated CreateRequest + configuration → the JobSpec every backend receives (pure).
import type { BackendName } from './backends/backend.js';
import { buildCommand } from './command.js';
import type { Config, IdRange, Storage } from './config.js';
import type { CreateRequest } from './http/request.js';
import { DOCKER_MANAGED_BY_LABEL, KUBE_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './job.js';
import type { JobSpec } from './job.js';
import { resolveMounts } from './storebase.js';

/** Which label list() filters on, per backend (one constant per object family). */
const MANAGED_BY_LABEL = {
  docker: DOCKER_MANAGED_BY_LABEL,
  swarm: DOCKER_MANAGED_BY_LABEL,
  memory: DOCKER_MANAGED_BY_LABEL,
  kubernetes: KUBE_MANAGED_BY_LABEL,
  openshift: KUBE_MANAGED_BY_LABEL,
} as const satisfies Record<BackendName, string>;

/** Builds the JobSpec: command (buildCommand), env (fresh object per request; HOME=/tmp replaces HOME when
 *  config.homeWorkaround), labels (config.jobLabels + managed-by label: DOCKER_MANAGED_BY_LABEL for docker/swarm/memory,
 *  KUBE_MANAGED_BY_LABEL for kubernetes/openshift, value MANAGED_BY_VALUE; ours wins), user drawn from config.containerUser
 *  (each side a range lo..hi → one value via `random`), shmMiB from config, mounts via resolveMounts, resources. */
export function toJobSpec(
  req: CreateRequest,
  config: Config,
  storage: Storage,
  random: () => number = Math.random,
): JobSpec {
  const spec: JobSpec = {
    name: req.jid,
    image: req.image,
    command: buildCommand(req.entrypoint, req.args, req.argsPathFlags, req.type),
    env: buildEnv(req.env, config.homeWorkaround),
    resources: {
      workers: req.numberOfWorkers,
      cpuMillicores: req.cpuLimit,
      memoryMiB: req.memoryLimit,
      gpus: req.gpuLimit,
    },
    mounts: resolveMounts({ input: req.inputDir, output: req.outputDir }, storage),
    labels: { ...config.jobLabels, [MANAGED_BY_LABEL[config.containerEnv]]: MANAGED_BY_VALUE },
  };
  const user = drawUser(config.containerUser, random);
  if (user !== undefined) spec.user = user;
  if (config.shmMiB !== undefined) spec.shmMiB = config.shmMiB;
  return spec;
}

/** A new record per request: pman's shared default list grew one HOME=/tmp per create (api.md §16 #23). */
function buildEnv(
  pairs: ReadonlyArray<readonly [string, string]>,
  homeWorkaround: boolean,
): Record<string, string> {
  // A Map, then fromEntries: a key such as "__proto__" stays an ordinary own property.
  const env = new Map<string, string>(pairs);
  if (homeWorkaround) {
    // pman appended HOME=/tmp, so it came last and won; delete first to keep it last here too.
    env.delete('HOME');
    env.set('HOME', '/tmp');
  }
  return Object.fromEntries(env);
}

function drawUser(
  containerUser: Config['containerUser'],
  random: () => number,
): { uid?: number; gid?: number } | undefined {
  if (containerUser === undefined) return undefined;
  const user: { uid?: number; gid?: number } = {};
  if (containerUser.uid !== undefined) user.uid = draw(containerUser.uid, random);
  if (containerUser.gid !== undefined) user.gid = draw(containerUser.gid, random);
  return user.uid === undefined && user.gid === undefined ? undefined : user;
}

/** One value of the inclusive range lo..hi. */
function draw(range: IdRange, random: () => number): number {
  const span = range.hi - range.lo + 1;
  return range.lo + Math.min(span - 1, Math.floor(random() * span));
}
