// toJobSpec: a validated job request + the settings that shape every job → the JobSpec every
// backend receives (pure). The request type is ours: the HTTP layer parses the wire into it.
import { buildCommand } from './command.js';
import { ValidationError } from './errors.js';
import type { IdRange, JobSpec, RetryPolicy, ServiceSpec, Storage } from './job.js';
import { resolveMounts } from './paths.js';

/** A create request after validation, in domain terms (the wire's snake_case stops at the edge). */
export interface JobRequest {
  jid: string;
  args: string[];
  argsPathFlags: string[];
  auid: string;
  numberOfWorkers: number;
  cpuLimit: number;
  memoryLimit: number;
  gpuLimit: number;
  image: string;
  entrypoint: string[];
  type: 'ds' | 'fs' | 'ts';
  /** Normalized (no leading/trailing '/'), checked against the path rule. */
  inputDir: string;
  outputDir: string;
  /** Ordered pairs, as sent. */
  env: Array<[string, string]>;
  /** callback_url: checked against WEBHOOK_ALLOWED_HOSTS; absent when not sent. */
  callbackUrl?: string;
  /** timeout_seconds (issue 13); absent when not sent. */
  timeoutSeconds?: number;
  /** priority (issue 13); absent: 0. */
  priority?: number;
  /** retries (issue 13); absent when not sent. */
  retries?: RetryPolicy;
  /** labels (issue 13), label syntax already checked; absent when not sent. */
  labels?: Readonly<Record<string, string>>;
  /** service (issue 15): a long-running job with an endpoint; absent: a batch job. */
  service?: ServiceSpec;
}

/** The deployment's settings that apply to every job (from the configuration). */
export interface SpecSettings {
  /** Replace HOME with /tmp (ENABLE_HOME_WORKAROUND; always on for OpenShift). */
  homeWorkaround: boolean;
  /** CONTAINER_USER: each side a range, one value drawn per job. */
  containerUser?: { uid?: IdRange; gid?: IdRange };
  /** SHM_SIZE in MiB. */
  shmMiB?: number;
  /** JOB_LABELS; backends add their own managed-by label. */
  jobLabels: Readonly<Record<string, string>>;
}

/** Builds the JobSpec: command (buildCommand), env (fresh object per request; HOME=/tmp replaces
 *  HOME when settings.homeWorkaround), labels (JOB_LABELS), user drawn from settings.containerUser
 *  (each side a range lo..hi → one value via `random`), shmMiB, mounts via resolveMounts, resources. */
export function toJobSpec(
  req: JobRequest,
  settings: SpecSettings,
  storage: Storage,
  random: () => number = Math.random,
): JobSpec {
  const spec: JobSpec = {
    name: req.jid,
    image: req.image,
    command: buildCommand(req.entrypoint, req.args, req.argsPathFlags, req.type),
    env: buildEnv(req.env, settings.homeWorkaround),
    resources: {
      workers: req.numberOfWorkers,
      cpuMillicores: req.cpuLimit,
      memoryMiB: req.memoryLimit,
      gpus: req.gpuLimit,
    },
    mounts: resolveMounts({ input: req.inputDir, output: req.outputDir }, storage),
    labels: mergeLabels(settings.jobLabels, req.labels),
    priority: req.priority ?? 0,
  };
  const user = drawUser(settings.containerUser, random);
  if (user !== undefined) spec.user = user;
  if (settings.shmMiB !== undefined) spec.shmMiB = settings.shmMiB;
  if (req.callbackUrl !== undefined) spec.callbackUrl = req.callbackUrl;
  if (req.labels !== undefined) spec.userLabels = { ...req.labels };
  if (req.timeoutSeconds !== undefined) spec.timeoutSeconds = req.timeoutSeconds;
  if (req.retries !== undefined) spec.retries = req.retries;
  if (req.service !== undefined) spec.service = { ...req.service };
  return spec;
}

/** JOB_LABELS first, then the request's; a request may not change an operator's label (a 400
 *  naming the key), since operators use them to find and account for pman's objects. */
function mergeLabels(
  jobLabels: Readonly<Record<string, string>>,
  requested: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const merged = new Map<string, string>(Object.entries(jobLabels));
  for (const [key, value] of Object.entries(requested ?? {})) {
    if (merged.has(key)) {
      throw new ValidationError({
        labels: `label key "${key}" is set by JOB_LABELS and cannot be overridden`,
      });
    }
    merged.set(key, value);
  }
  return Object.fromEntries(merged);
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
  containerUser: SpecSettings['containerUser'],
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
