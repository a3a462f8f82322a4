// The create body's `service` object (issue 15): a long-running job with an endpoint instead of a
// batch job. JSON body only, checked with the other fields added since pman once pman's own passed.
import { z } from 'zod';
import type { ServiceSpec } from '../../domain/job.js';

export const SERVICE_FIELD = 'service';
/** A health path is sent in a request line: bounded, printable, no spaces or fragments. */
export const MAX_HEALTH_PATH_LENGTH = 1024;
const HEALTH_PATH = /^\/[!$&'()*+,;=:@%/?A-Za-z0-9._~-]*$/;

export const serviceSchema = z
  .object(
    {
      port: z
        .number({
          error: (i) =>
            i.input === undefined
              ? 'required: the container port the server listens on (1 to 65535)'
              : 'must be an integer',
        })
        .int({ error: 'must be an integer' })
        .min(1, { error: (i) => `must be a TCP port from 1 to 65535, got ${String(i.input)}` })
        .max(65_535, {
          error: (i) => `must be a TCP port from 1 to 65535, got ${String(i.input)}`,
        })
        .meta({ description: 'the container port the server listens on' }),
      health_path: z
        .string({ error: 'must be a string such as "/healthz"' })
        .max(MAX_HEALTH_PATH_LENGTH, {
          error: `must be at most ${MAX_HEALTH_PATH_LENGTH} characters`,
        })
        .regex(HEALTH_PATH, {
          error: 'must be a URL path starting with "/" (no spaces or "#"), such as "/healthz"',
        })
        .optional()
        .meta({
          description:
            'HTTP path GET for the health check (2xx or 3xx passes); without it a TCP connect is the check',
        }),
      type: z
        .enum(['ClusterIP', 'NodePort'], { error: 'must be "ClusterIP" or "NodePort"' })
        .optional()
        .meta({
          description:
            'Kubernetes/OpenShift Service type (default ClusterIP); Docker, Podman and Swarm publish a host port and refuse NodePort',
        }),
    },
    { error: 'must be an object such as {"port": 8080, "health_path": "/healthz"}' },
  )
  .strict()
  .meta({
    description:
      'run the image as a long-running service with an endpoint (restarted on failure, kept until DELETE or cancel)',
  });

/** The service object in domain terms: `type` defaults to ClusterIP. */
export function toServiceSpec(wire: z.output<typeof serviceSchema>): ServiceSpec {
  return {
    port: wire.port,
    exposure: wire.type ?? 'ClusterIP',
    ...(wire.health_path !== undefined && { healthPath: wire.health_path }),
  };
}
