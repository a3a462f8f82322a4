// The client commands on the `pman` command line (yargs), and the ClientCommand a parse gives.
// cli.ts adds them beside the server's flags; the server start stays the default command.
import type { Argv } from 'yargs';
import type { ClientCommand } from './commands.js';

const JID = { type: 'string', describe: 'the job id', demandOption: true } as const;
const JSON_OPTION = { type: 'boolean', describe: 'print JSON instead of text' } as const;

/** The client command lines, for the synopsis. */
export const CLIENT_SYNOPSIS = `    pman submit <file.json|-> [--json]     pman status <jid> [--json]
    pman jobs [--status <status>] [--label k=v] [--json]
    pman logs [-f|--follow] [--tail <n>] <jid>
    pman wait <jid> [--json]               pman cancel <jid> [--json]
    pman delete <jid> [--json]             pman events [--jid <jid>] [--status <s>] [--since <seq>] [--json]
    pman images [--q <text>] [--json]`;

export function withClientCommands<T>(y: Argv<T>): Argv<T> {
  return y
    .command('submit <file>', 'submit a job: a JSON body file, or - for stdin', (c) =>
      c.positional('file', { type: 'string', demandOption: true }).option('json', JSON_OPTION),
    )
    .command('status <jid>', "a job's status and logs", (c) =>
      c.positional('jid', JID).option('json', JSON_OPTION),
    )
    .command('jobs', 'the jobs, as a table', (c) =>
      c
        .option('status', { type: 'string', describe: 'only jobs in this status' })
        .option('label', {
          type: 'string',
          array: true,
          describe: 'k=v: only jobs with this label',
        })
        .option('json', JSON_OPTION),
    )
    .command('logs <jid>', "a job's log", (c) =>
      c
        .positional('jid', JID)
        .option('follow', { alias: 'f', type: 'boolean', describe: 'follow until the job ends' })
        .option('tail', { type: 'number', describe: 'only the last n lines' }),
    )
    .command('wait <jid>', 'wait for a job to end (exit 0 only for finishedSuccessfully)', (c) =>
      c.positional('jid', JID).option('json', JSON_OPTION),
    )
    .command('cancel <jid>', 'stop a job (it stays until delete)', (c) =>
      c.positional('jid', JID).option('json', JSON_OPTION),
    )
    .command('delete <jid>', 'remove a job', (c) =>
      c.positional('jid', JID).option('json', JSON_OPTION),
    )
    .command('events', 'follow every status change', (c) =>
      c
        .option('jid', { type: 'string', array: true, describe: 'only this job (repeatable)' })
        .option('status', {
          type: 'string',
          array: true,
          describe: 'only this status (repeatable)',
        })
        .option('since', { type: 'string', describe: 'replay from after this sequence number' })
        .option('json', JSON_OPTION),
    )
    .command('images', 'the images this server will run (the image catalogue)', (c) =>
      c
        .option('q', { type: 'string', describe: 'only images whose name or title contains this' })
        .option('json', JSON_OPTION),
    );
}

const NAMES = [
  'submit',
  'status',
  'jobs',
  'logs',
  'wait',
  'cancel',
  'delete',
  'events',
  'images',
] as const;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strs(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** The client command the parsed arguments name; undefined: not a client command. A usage error
 *  is thrown as an Error with the text to print. */
export function clientCommandOf(
  args: Record<string, unknown> & { _: readonly (string | number)[] },
): ClientCommand | undefined {
  const name = NAMES.find((n) => n === args._[0]);
  if (name === undefined) return undefined;
  const json = args.json === true;
  const jid = str(args.jid) ?? '';
  switch (name) {
    case 'submit': {
      // yargs hands `-` (stdin) over as an empty string.
      const file = str(args.file);
      return { name, json, file: file === undefined || file === '' ? '-' : file };
    }
    case 'jobs': {
      const status = str(args.status);
      const label = strs(args.label);
      return {
        name,
        json,
        ...(status !== undefined && { status }),
        ...(label !== undefined && { label }),
      };
    }
    case 'logs': {
      const tail = args.tail;
      if (
        tail !== undefined &&
        !(typeof tail === 'number' && Number.isInteger(tail) && tail >= 0)
      ) {
        throw new Error('--tail: must be a whole number ≥ 0');
      }
      return {
        name,
        json,
        jid,
        follow: args.follow === true,
        ...(typeof tail === 'number' && { tail }),
      };
    }
    case 'events': {
      const jids = strs(args.jid);
      const status = strs(args.status);
      const since = str(args.since);
      return {
        name,
        json,
        ...(jids !== undefined && { jid: jids }),
        ...(status !== undefined && { status }),
        ...(since !== undefined && { since }),
      };
    }
    case 'images': {
      const q = str(args.q);
      return { name, json, ...(q !== undefined && { q }) };
    }
    case 'status':
    case 'wait':
    case 'cancel':
    case 'delete':
      return { name, json, jid };
  }
}
