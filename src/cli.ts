// The command line (api.md §15.1): pman 3's flags mapped onto config overrides, and the `token`
// subcommand. Parsing only: it returns what to do; main.ts prints, signs and exits.
import jwt from 'jsonwebtoken';
import yargs from 'yargs';
import { DEFAULT_JWT_RULES } from './config/auth.js';
import type { JwtRules } from './config/auth.js';
import type { Config, ConfigOverrides } from './config/config.js';
import { CLIENT_SYNOPSIS, clientCommandOf, withClientCommands } from './client/cli-args.js';
import type { ClientCommand } from './client/commands.js';

export type CliAction =
  | { kind: 'serve'; overrides: ConfigOverrides }
  /** Print `text` on stdout and exit 0 (--version, --desc, --synopsis, --help). */
  | { kind: 'print'; text: string }
  | { kind: 'token'; expiresIn: string; subject?: string }
  /** A client command against PMAN_URL (src/client): main.ts runs it and exits with its code. */
  | { kind: 'client'; command: ClientCommand }
  /** A usage error: print on stderr and exit non-zero. */
  | { kind: 'fail'; message: string };

export const SYNOPSIS = `NAME

    pman

SYNOPSIS

    pman [--ip <IP>] [--port <port>] [--enableTokenAuth] [--tokenPath <path>]
         [-x|--desc] [-y|--synopsis] [--version] [-v|--verbosity <level>] [-h|--help]
    pman token [--expiresIn <duration>] [--subject <name>]

CLIENT (against PMAN_URL, default http://127.0.0.1:5010, with PMAN_TOKEN)

${CLIENT_SYNOPSIS}

BRIEF EXAMPLE

    pman --ip 0.0.0.0 --port 5010
    pman submit job.json && pman wait chris-jid-1
`;

export const DESCRIPTION = `${SYNOPSIS}
DESCRIPTION

    pman, the ChRIS process manager, runs ChRIS plugin jobs for pfcon. It serves one HTTP API
    (POST /api/v1/ to create a job, GET /api/v1/<jid>/ for its status and logs, DELETE
    /api/v1/<jid>/ to remove it) over Docker, Podman, Docker Swarm, Kubernetes and OpenShift.
    The backend and storage are configured with environment variables (CONTAINER_ENV,
    STORAGE_TYPE, STOREBASE, VOLUME_NAME, ...), read from the environment and from a .env file
    in the working directory.

ARGS

    [--ip <IP>]              address to listen on (default 127.0.0.1)
    [--port <port>]          port to listen on (default $PORT, else 5010)
    [--enableTokenAuth]      require a bearer token on every /api/v1/ route
    [--tokenPath <path>]     file of accepted static tokens
    [-x|--desc]              print this description and exit
    [-y|--synopsis]          print the synopsis and exit
    [--version]              print the version and exit
    [-v|--verbosity <level>] 0 warn, 1 info (default), 2 debug, 3 or more trace
    [-h|--help]              print the usage and exit

    token [--expiresIn <duration>] [--subject <name>]
                             print a JWT signed with SECRET_KEY (HS256, default expiry 2d,
                             aud $JWT_AUDIENCE else pman, iss $JWT_ISSUER when set)
`;

/** -v level → log level; pman's scale, where 0 means minimal output. */
export function verbosityToLogLevel(level: number): Config['logLevel'] {
  if (level <= 0) return 'warn';
  if (level === 1) return 'info';
  if (level === 2) return 'debug';
  return 'trace';
}

function buildParser(argv: readonly string[]) {
  return withClientCommands(yargs([...argv]))
    .scriptName('pman')
    .usage(
      '$0 [options]\n$0 token [--expiresIn <duration>] [--subject <name>]\n$0 <client command> (PMAN_URL, PMAN_TOKEN)',
    )
    .version(false)
    .help(false)
    .exitProcess(false)
    .strict()
    .fail((message: string | undefined, err: Error | undefined) => {
      throw err ?? new Error(message ?? 'invalid arguments');
    })
    .option('ip', { type: 'string', describe: 'address to listen on (default 127.0.0.1)' })
    .option('port', { type: 'number', describe: 'port to listen on (default $PORT, else 5010)' })
    .option('enableTokenAuth', { type: 'boolean', describe: 'require bearer tokens' })
    .option('tokenPath', { type: 'string', describe: 'file of accepted static tokens' })
    .option('desc', { alias: 'x', type: 'boolean', describe: 'print the long description' })
    .option('synopsis', { alias: 'y', type: 'boolean', describe: 'print the synopsis' })
    .option('version', { type: 'boolean', describe: 'print the version' })
    .option('verbosity', {
      alias: 'v',
      type: 'number',
      describe: '0 warn, 1 info, 2 debug, 3+ trace',
    })
    .option('help', { alias: 'h', type: 'boolean', describe: 'show help' })
    .command('token', 'print a JWT signed with SECRET_KEY (HS256)', (y) =>
      y
        .option('expiresIn', { type: 'string', default: '2d', describe: 'e.g. 2d, 12h, 3600' })
        .option('subject', { type: 'string', describe: 'the token subject (sub)' }),
    );
}

/** Parses argv (without node and the script). Never prints and never exits. */
export async function parseCli(argv: readonly string[], version: string): Promise<CliAction> {
  const parser = buildParser(argv);
  let args: Awaited<ReturnType<typeof parser.parseAsync>>;
  try {
    args = await parser.parseAsync();
  } catch (err) {
    return { kind: 'fail', message: err instanceof Error ? err.message : String(err) };
  }
  if (args.help === true) return { kind: 'print', text: await parser.getHelp() };
  if (args.version === true) return { kind: 'print', text: `Version: ${version}` };
  if (args.desc === true) return { kind: 'print', text: DESCRIPTION };
  if (args.synopsis === true) return { kind: 'print', text: SYNOPSIS };
  let client: ClientCommand | undefined;
  try {
    client = clientCommandOf(args);
  } catch (err) {
    return { kind: 'fail', message: err instanceof Error ? err.message : String(err) };
  }
  if (client !== undefined) return { kind: 'client', command: client };
  if (args._[0] === 'token') {
    const expiresIn = typeof args.expiresIn === 'string' ? args.expiresIn : '2d';
    const subject = typeof args.subject === 'string' ? args.subject : undefined;
    return { kind: 'token', expiresIn, ...(subject !== undefined && { subject }) };
  }
  const { port, verbosity } = args;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    return {
      kind: 'fail',
      message: `--port: "${argvValue(argv, '--port')}" is not a whole number from 0 to 65535`,
    };
  }
  if (verbosity !== undefined && !(Number.isInteger(verbosity) && verbosity >= 0)) {
    return { kind: 'fail', message: '--verbosity: must be a whole number ≥ 0' };
  }
  const overrides: ConfigOverrides = {
    ...(args.ip !== undefined && { ip: args.ip }),
    ...(port !== undefined && { port }),
    ...(args.enableTokenAuth === true && { enableTokenAuth: true }),
    ...(args.tokenPath !== undefined && { tokenPath: args.tokenPath }),
    ...(verbosity !== undefined && { logLevel: verbosityToLogLevel(verbosity) }),
  };
  return { kind: 'serve', overrides };
}

/** The text the user typed for a flag, for error messages (yargs has turned it into NaN). */
function argvValue(argv: readonly string[], flag: string): string {
  const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  const arg = argv[i];
  if (arg === undefined) return '';
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[i + 1] ?? '');
}

/**
 * Signs the `token` subcommand's JWT: HS256 with SECRET_KEY, with the `aud` (and `iss` when
 * configured) the server requires, and refused when it would outlive JWT_MAX_LIFETIME_SECONDS (the
 * server would refuse it). A bare number of seconds is accepted too (jsonwebtoken would read a
 * numeric string as milliseconds).
 */
export function signToken(
  secretKey: string,
  opts: { expiresIn: string; subject?: string },
  rules: JwtRules = DEFAULT_JWT_RULES,
  nowMs: number = Date.now(),
): string {
  const expiresIn = /^\d+$/.test(opts.expiresIn) ? Number(opts.expiresIn) : opts.expiresIn;
  const iat = Math.floor(nowMs / 1000);
  const token = jwt.sign({ iat }, secretKey, {
    algorithm: 'HS256',
    expiresIn: expiresIn as jwt.SignOptions['expiresIn'] & {},
    audience: rules.audience,
    ...(rules.issuer !== undefined && { issuer: rules.issuer }),
    ...(opts.subject !== undefined && { subject: opts.subject }),
  });
  const exp = (jwt.decode(token) as jwt.JwtPayload).exp ?? iat;
  if (exp - iat > rules.maxLifetimeSeconds) {
    throw new Error(
      `"${opts.expiresIn}" is longer than JWT_MAX_LIFETIME_SECONDS (${rules.maxLifetimeSeconds} s), which the server would refuse`,
    );
  }
  return token;
}
