// The batch script of one job (pure): it runs the image with the node's container runtime, the
// input folder read-only at /share/incoming, the output folder at /share/outgoing, the job's
// environment and its argv. Every value that comes from a request (image, argv, env, paths) reaches
// the shell only inside single quotes, so no field can inject shell syntax; values the shell cannot
// carry at all (NUL) are refused.
import { InvalidSpecError } from '../../domain/errors.js';
import { DEFAULT_CAP_ADD, DEFAULT_PIDS_LIMIT } from '../shared/job-hardening.js';
import type { SlurmRuntime } from './settings.js';

export interface ScriptBind {
  /** Absolute path on the node (storeBase is shared at the same path). */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ScriptInput {
  jid: string;
  image: string;
  command: readonly string[];
  env: Readonly<Record<string, string>>;
  binds: readonly ScriptBind[];
  runtime: SlurmRuntime;
  cpuMillicores: number;
  memoryMiB: number;
  gpus: number;
  shmMiB?: number;
  user?: { uid?: number; gid?: number };
}

/** One shell word: single-quoted, a quote inside written as '\''. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new InvalidSpecError('a value contains a NUL character');
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** A field of Docker's CSV --mount syntax: quoted when it holds a comma, quote or line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkEnvName(name: string, runtime: SlurmRuntime): void {
  // Docker and Podman take any name without '=' (-e 'NAME=value'); Apptainer's NAME comes through
  // a shell variable (APPTAINERENV_NAME), so it must be a shell identifier.
  const ok =
    runtime === 'docker' || runtime === 'podman'
      ? name !== '' && !name.includes('=')
      : ENV_NAME.test(name);
  if (!ok) throw new InvalidSpecError(`env name "${name}" cannot be passed to a ${runtime} job`);
}

function userFlag(user: ScriptInput['user']): string[] {
  if (user?.uid === undefined && user?.gid === undefined) return [];
  const uid = user.uid ?? 0;
  return [`--user=${user.gid === undefined ? `${uid}` : `${uid}:${user.gid}`}`];
}

/** `docker run` / `podman run` words, each already a safe shell word. */
function engineRun(input: ScriptInput): string[] {
  const [entrypoint, ...args] = input.command;
  if (entrypoint === undefined) throw new InvalidSpecError('the job has no command to run');
  const cpus = String(input.cpuMillicores / 1000);
  const flags = [
    'run',
    '--rm',
    '--name',
    '"$c"',
    `--cpus=${cpus}`,
    `--memory=${input.memoryMiB}m`,
    `--memory-swap=${input.memoryMiB}m`,
    `--pids-limit=${DEFAULT_PIDS_LIMIT}`,
    '--network=none',
    '--security-opt=no-new-privileges',
    '--cap-drop=ALL',
    ...DEFAULT_CAP_ADD.map((cap) => `--cap-add=${cap}`),
    ...(input.shmMiB !== undefined ? [`--shm-size=${input.shmMiB}m`] : []),
    ...(input.gpus > 0 ? [`--gpus=${input.gpus}`] : []),
    ...userFlag(input.user),
  ];
  const words = [input.runtime, ...flags];
  for (const bind of input.binds) {
    const fields = ['type=bind', `source=${bind.source}`, `target=${bind.target}`];
    if (bind.readOnly) fields.push('readonly');
    words.push('--mount', shellQuote(fields.map(csvField).join(',')));
  }
  for (const [name, value] of Object.entries(input.env)) {
    checkEnvName(name, input.runtime);
    words.push('-e', shellQuote(`${name}=${value}`));
  }
  words.push('--entrypoint', shellQuote(entrypoint), shellQuote(input.image));
  words.push(...args.map(shellQuote));
  return words;
}

/** An image reference as Apptainer reads it: a registry image unless it already names a source. */
function apptainerImage(image: string): string {
  return image.startsWith('/') || image.includes('://') ? image : `docker://${image}`;
}

/** `apptainer exec` / `singularity exec` words; the environment goes through APPTAINERENV_*. */
function apptainerRun(input: ScriptInput): { prelude: string[]; words: string[] } {
  const prefix = input.runtime === 'apptainer' ? 'APPTAINERENV_' : 'SINGULARITYENV_';
  const prelude: string[] = [];
  for (const [name, value] of Object.entries(input.env)) {
    checkEnvName(name, input.runtime);
    prelude.push(`export ${prefix}${name}=${shellQuote(value)}`);
  }
  const words = [input.runtime, 'exec', '--containall', '--cleanenv', '--no-home'];
  for (const bind of input.binds) {
    if (/[,:]/.test(bind.source)) {
      throw new InvalidSpecError(
        `${input.runtime} cannot bind a path holding ',' or ':' (${bind.source})`,
      );
    }
    words.push(
      '--bind',
      shellQuote(`${bind.source}:${bind.target}:${bind.readOnly ? 'ro' : 'rw'}`),
    );
  }
  if (input.gpus > 0) words.push('--nv');
  words.push(shellQuote(apptainerImage(input.image)), ...input.command.map(shellQuote));
  return { prelude, words };
}

/**
 * The script. The runtime runs in the background so that a cancel (Slurm sends SIGTERM, then
 * SIGKILL after KillWait) reaches the trap, which removes the container: a killed `docker run`
 * client alone would leave it running on the node.
 */
export function batchScript(input: ScriptInput): string {
  const lines = [
    '#!/bin/sh',
    // The jid is a comment's text only: the name rule keeps it to letters, digits, '-' and '_'.
    `# pman-ts job ${input.jid.replace(/[^A-Za-z0-9_-]/g, '?')}`,
    'c="pman-slurm-${SLURM_JOB_ID:-$$}"',
  ];
  if (input.runtime === 'docker' || input.runtime === 'podman') {
    const run = engineRun(input);
    lines.push(
      `stop() { ${input.runtime} rm -f "$c" >/dev/null 2>&1; }`,
      "trap 'stop; exit 143' TERM INT HUP",
      `${run.join(' ')} </dev/null &`,
    );
  } else {
    const { prelude, words } = apptainerRun(input);
    lines.push(
      ...prelude,
      'stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid"; }',
      "trap 'stop; exit 143' TERM INT HUP",
      `${words.join(' ')} </dev/null &`,
    );
  }
  lines.push('pid=$!', 'wait "$pid"', 'exit $?', '');
  return lines.join('\n');
}
