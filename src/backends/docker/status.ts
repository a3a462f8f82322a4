// fromContainer(inspect): JobInfo — the Docker state table of api.md §9.1 (pure), the inspect answer
// parsed; fromPending for jobs whose image is still being pulled (no container yet).
// Container states: https://docs.docker.com/engine/api/v1.41/#tag/Container/operation/ContainerInspect
import { z } from 'zod';
import { TERMINAL_STATUSES } from '../../domain/job.js';
import type { JobInfo, JobStatus } from '../../domain/job.js';
import { isSetTime } from '../shared/engine-time.js';
import { DEFAULT_SERVICE_BIND_IP, endpointFor, servicePortOf } from '../shared/service-settings.js';

/** The parts of a container inspect we read (anything else is dropped, so the view stays small). */
const containerSchema = z.object({
  Name: z.string(),
  Created: z.string().default(''),
  State: z.object({
    Status: z.string().default(''),
    Running: z.boolean().default(false),
    Paused: z.boolean().default(false),
    Restarting: z.boolean().default(false),
    OOMKilled: z.boolean().default(false),
    Dead: z.boolean().default(false),
    ExitCode: z.number().default(0),
    Error: z.string().optional(),
    StartedAt: z.string().default(''),
    FinishedAt: z.string().default(''),
  }),
  Config: z.object({
    Image: z.string().default(''),
    Entrypoint: z.union([z.string(), z.array(z.string())]).nullish(),
    Labels: z.record(z.string(), z.string()).nullish(),
  }),
  // Service jobs (issue 15): how often the engine restarted the server, and where its port is
  // published. Optional, so a view built by hand (tests) needs neither.
  RestartCount: z.number().optional(),
  NetworkSettings: z
    .object({
      // `null` for an exposed port that is not published (or not bound while restarting).
      Ports: z
        .record(
          z.string(),
          z
            .array(z.object({ HostIp: z.string().default(''), HostPort: z.string().default('') }))
            .nullable(),
        )
        .nullish(),
    })
    .nullish(),
});

export type ContainerView = z.infer<typeof containerSchema>;

/** Narrows a container inspect answer (unknown from the client library). Throws on a foreign shape. */
export function parseContainer(raw: unknown): ContainerView {
  return containerSchema.parse(raw);
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/**
 * RFC 3339 in UTC with `Z`, keeping the engine's precision (nanoseconds on Docker). Docker already
 * answers in UTC; Podman may answer with an offset, which is folded into the time here.
 */
export function toUtc(t: string): string {
  const m = RFC3339.exec(t);
  if (m === null) return t;
  const [, seconds = '', fraction = '', zone = 'Z'] = m;
  if (zone.toUpperCase() === 'Z') return `${seconds}${fraction}Z`;
  const utc = new Date(`${seconds}${zone}`).toISOString().slice(0, 19);
  return `${utc}${fraction}Z`;
}

interface Verdict {
  status: JobStatus;
  message: string;
  terminal: boolean;
  /** Terminal only: the engine's exit code, when it means one. */
  exitCode?: number | undefined;
}

/** api.md §9.1, in order. Paused and restarting containers also have Running set, so they come first. */
function verdict(state: ContainerView['State']): Verdict {
  const exitCode = state.ExitCode;
  const ongoing = (status: JobStatus, message: string): Verdict => ({
    status,
    message,
    terminal: false,
  });
  const final = (status: JobStatus, message: string): Verdict => ({
    status,
    message,
    terminal: true,
    exitCode,
  });
  if (state.Paused) return ongoing('started', 'paused');
  if (state.Restarting) return ongoing('started', 'restarting');
  if (state.Running) return ongoing('started', 'running');
  if (state.Status === 'created') return ongoing('notstarted', 'created');
  if (state.OOMKilled) return final('finishedWithError', `OOMKilled (exit code ${state.ExitCode})`);
  if (state.Dead || state.Status === 'dead') {
    // A dead container's ExitCode is 0 unless its process did exit: only a real code is kept.
    const dead = final('finishedWithError', 'dead');
    return state.ExitCode === 0 ? { ...dead, exitCode: undefined } : dead;
  }
  // Podman reports `stopped` between the process's exit and its cleanup: already final.
  if (state.Status === 'exited' || state.Status === 'stopped') {
    if (state.ExitCode === 0) return final('finishedSuccessfully', 'exited');
    const reason = state.Error !== undefined && state.Error !== '' ? `: ${state.Error}` : '';
    return final('finishedWithError', `exited with code ${state.ExitCode}${reason}`);
  }
  return ongoing('undefined', state.Status);
}

/** Finish time when terminal, else start time, else creation time (api.md §8). */
function timestamp(c: ContainerView, terminal: boolean): string {
  if (terminal && isSetTime(c.State.FinishedAt)) return toUtc(c.State.FinishedAt);
  if (isSetTime(c.State.StartedAt)) return toUtc(c.State.StartedAt);
  return toUtc(c.Created);
}

function entrypoint(e: ContainerView['Config']['Entrypoint']): string[] {
  if (e === undefined || e === null) return [];
  return typeof e === 'string' ? [e] : [...e];
}

/** How fromContainer reads a service job's container (issue 15); a batch job needs none of it. */
export interface StatusOptions {
  /** SERVICE_BIND_IP: the endpoint's address when the engine bound a wildcard; 127.0.0.1 unset. */
  bindIp?: string;
  /**
   * Podman (flavour.ts): between a crash and the restart its policy makes, a service container
   * shows `stopped`/`exited` exactly as a stopped one does. Whether this exited one is settled
   * (stopped for good); unset: every exit is final, as on Docker, which shows `restarting`
   * meanwhile.
   */
  exitSettled?: (c: ContainerView) => boolean;
}

function restartsText(n: number): string {
  return n === 1 ? '1 restart' : `${n} restarts`;
}

/**
 * A service job's server is restarted by the engine: while it does, the job is `started`, never
 * terminal (the job service decides about health and gives up after its start timeout). Only an
 * exit the engine will not follow with a restart (a stop, or the engine gave up) is final.
 */
function serviceVerdict(c: ContainerView, v: Verdict, options: StatusOptions): Verdict {
  const restarts = c.RestartCount ?? 0;
  const restarting = (): Verdict => ({
    status: 'started',
    message: `restarting after exit code ${c.State.ExitCode} (${restartsText(restarts)})`,
    terminal: false,
  });
  if (c.State.Restarting && !c.State.Paused) return restarting();
  const exited = c.State.Status === 'exited' || c.State.Status === 'stopped';
  if (v.terminal && exited && options.exitSettled !== undefined && !options.exitSettled(c)) {
    return restarting();
  }
  return v;
}

/** `http://<ip>:<host port>` of the service's published port, while its server runs (the engine
 *  binds the port at each start, and Docker picks a new host port at each restart). */
function serviceEndpoint(c: ContainerView, port: number, bindIp: string): string | undefined {
  if (!c.State.Running || c.State.Restarting) return undefined;
  const bindings = c.NetworkSettings?.Ports?.[`${port}/tcp`] ?? [];
  const bound = bindings.find((b) => /^[0-9]{1,5}$/.test(b.HostPort) && Number(b.HostPort) > 0);
  return bound === undefined
    ? undefined
    : endpointFor(bound.HostIp, Number(bound.HostPort), bindIp);
}

/** The job as the container shows it: the image as requested, the command from Entrypoint; a
 *  service job's (label pman.service.port) also its endpoint and restarts. */
export function fromContainer(c: ContainerView, options: StatusOptions = {}): JobInfo {
  const port = servicePortOf(c.Config.Labels);
  const plain = verdict(c.State);
  const v = port === undefined ? plain : serviceVerdict(c, plain, options);
  const endpoint =
    port === undefined
      ? undefined
      : serviceEndpoint(c, port, options.bindIp ?? DEFAULT_SERVICE_BIND_IP);
  return {
    name: c.Name.replace(/^\/+/, ''),
    image: c.Config.Image,
    command: entrypoint(c.Config.Entrypoint),
    status: v.status,
    message: v.message,
    timestamp: timestamp(c, v.terminal),
    // The engine's exit code is final once the container is (the ledger keeps it).
    ...(v.exitCode !== undefined && { exitCode: v.exitCode }),
    ...(port !== undefined && {
      service: {
        ...(endpoint !== undefined && { endpoint }),
        restarts: c.RestartCount ?? 0,
      },
    }),
  };
}

/** Whether the container ever ran (so it has logs to read). */
export function hasStarted(c: ContainerView): boolean {
  return isSetTime(c.State.StartedAt);
}

/** Whether the job's status is final: it cannot change any more. */
export function isFinal(c: ContainerView, options: StatusOptions = {}): boolean {
  return TERMINAL_STATUSES.has(fromContainer(c, options).status);
}

/** A job that has no container yet because its image is being pulled (api.md §9.1, first rows). */
export interface PendingView {
  name: string;
  image: string;
  command: readonly string[];
  /** When the create was accepted (RFC 3339 UTC). */
  acceptedAt: string;
  /** Set once the background pull (or the create after it) failed; the time it failed. */
  failure?: { message: string; at: string };
}

export function fromPending(p: PendingView): JobInfo {
  const base = { name: p.name, image: p.image, command: [...p.command] };
  if (p.failure !== undefined) {
    return {
      ...base,
      status: 'finishedWithError',
      message: p.failure.message,
      timestamp: p.failure.at,
    };
  }
  return { ...base, status: 'notstarted', message: 'pulling image', timestamp: p.acceptedAt };
}

/**
 * A container of ours that the list call shows but whose inspect failed or hung: reported as
 * `undefined` with the reason, so one bad container never takes the whole list down (issue 10).
 */
export function fromUnread(name: string, reason: string): JobInfo {
  return {
    name,
    image: '',
    command: [],
    status: 'undefined',
    message: `the engine could not describe this container: ${reason}`,
    timestamp: new Date().toISOString(),
  };
}
