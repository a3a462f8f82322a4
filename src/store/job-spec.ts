// The stored JobSpec read back with zod: a row the code did not write (or an older shape) is an
// error naming the run, never a JobSpec with holes handed to a backend.
import { z } from 'zod';
import { INCOMING, OUTGOING } from '../domain/job.js';
import type { JobSpec } from '../domain/job.js';

const count = z.number().int().nonnegative();
const strings = z.record(z.string(), z.string());

const MountSchema = z.object({
  kind: z.enum(['host', 'volume']),
  source: z.string(),
  subPath: z.string(),
  containerPath: z.enum([INCOMING, OUTGOING]),
  readOnly: z.boolean(),
});

export const JobSpecSchema = z.object({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()),
  env: strings,
  resources: z.object({
    workers: count,
    cpuMillicores: count,
    memoryMiB: count,
    gpus: count,
  }),
  mounts: z.array(MountSchema),
  user: z.object({ uid: count.optional(), gid: count.optional() }).optional(),
  shmMiB: count.optional(),
  callbackUrl: z.string().optional(),
  labels: strings,
  // Issue 13's fields: specs stored before them have none (a missing priority means 0; it stays
  // missing so a spec reads back exactly as it was stored).
  userLabels: strings.optional(),
  timeoutSeconds: count.optional(),
  priority: z.number().int().optional(),
  retries: z
    .object({
      limit: count,
      backoffSeconds: z.number().nonnegative(),
      onExitCodes: z.array(z.number().int()).optional(),
    })
    .optional(),
  // Issue 15.
  service: z
    .object({
      port: z.number().int().min(1).max(65_535),
      healthPath: z.string().optional(),
      exposure: z.enum(['ClusterIP', 'NodePort']),
    })
    .optional(),
});

/** Parses a stored spec's JSON text; throws (zod or SyntaxError) when it is not a JobSpec. */
export function parseJobSpec(text: string): JobSpec {
  const parsed = JobSpecSchema.parse(JSON.parse(text));
  // exactOptionalPropertyTypes: drop the optional keys zod reports as undefined.
  const spec: JobSpec = {
    name: parsed.name,
    image: parsed.image,
    command: parsed.command,
    env: parsed.env,
    resources: parsed.resources,
    mounts: parsed.mounts,
    labels: parsed.labels,
  };
  if (parsed.user !== undefined) {
    const user: { uid?: number; gid?: number } = {};
    if (parsed.user.uid !== undefined) user.uid = parsed.user.uid;
    if (parsed.user.gid !== undefined) user.gid = parsed.user.gid;
    spec.user = user;
  }
  if (parsed.shmMiB !== undefined) spec.shmMiB = parsed.shmMiB;
  if (parsed.callbackUrl !== undefined) spec.callbackUrl = parsed.callbackUrl;
  if (parsed.priority !== undefined) spec.priority = parsed.priority;
  if (parsed.userLabels !== undefined) spec.userLabels = parsed.userLabels;
  if (parsed.timeoutSeconds !== undefined) spec.timeoutSeconds = parsed.timeoutSeconds;
  if (parsed.retries !== undefined) {
    const { limit, backoffSeconds, onExitCodes } = parsed.retries;
    spec.retries = { limit, backoffSeconds, ...(onExitCodes !== undefined && { onExitCodes }) };
  }
  if (parsed.service !== undefined) {
    const { port, healthPath, exposure } = parsed.service;
    spec.service = { port, exposure, ...(healthPath !== undefined && { healthPath }) };
  }
  return spec;
}
