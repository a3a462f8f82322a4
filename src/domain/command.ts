// The job's argv from entrypoint, args and path flags, and its rendering for the `cmd` field (api.md §6).
import { INCOMING, OUTGOING } from './job.js';

/** entrypoint + args (each path flag's value replaced by /share/incoming) [+ /share/incoming for ds] + /share/outgoing. */
export function buildCommand(
  entrypoint: readonly string[],
  args: readonly string[],
  pathFlags: readonly string[],
  type: 'ds' | 'fs' | 'ts',
): string[] {
  const command = [...entrypoint, ...localizePathArgs(args, new Set(pathFlags))];
  if (type === 'ds') command.push(INCOMING);
  command.push(OUTGOING);
  return command;
}

/** pman's localize_path_args: the element after a path flag is consumed (never read as a flag itself);
 *  a flag in last position is still followed by /share/incoming. */
function localizePathArgs(args: readonly string[], flags: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    out.push(arg);
    if (flags.has(arg)) {
      out.push(INCOMING);
      i++; // skip the original value (pfcon already copied it into the input dir)
    }
  }
  return out;
}

/** Python shlex.quote's "safe" characters: such a word is printed bare. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** 'shell': Python shlex.join (pman's Docker rendering); 'plain': space-joined, unquoted (everywhere else). */
export function renderCmd(argv: readonly string[], style: 'shell' | 'plain'): string {
  if (style === 'plain') return argv.join(' ');
  return argv.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  if (word === '') return "''";
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'"'"'`)}'`;
}
