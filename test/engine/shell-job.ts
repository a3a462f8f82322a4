// The body pfcon would POST for an `fs` plugin whose command is a shell script, with its data dirs
// under key-<jid>/ in storeBase: what the server-process suites (e2e, events) submit.

/** The test image every engine suite imports (scripts/engine-up.sh). */
export const TEST_IMAGE = '127.0.0.1:5999/pman-ts/busybox:test';

/** A create body running `/bin/sh -c <script>`; `extra` replaces or adds fields. */
export function shellJobBody(
  id: string,
  script: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    jid: id,
    args: [],
    args_path_flags: [],
    auid: 'cube',
    number_of_workers: 1,
    cpu_limit: 1000,
    memory_limit: 200,
    gpu_limit: 0,
    image: TEST_IMAGE,
    entrypoint: ['/bin/sh', '-c', script, 'sh'],
    type: 'fs',
    env: [],
    input_dir: `key-${id}/incoming`,
    output_dir: `key-${id}/outgoing`,
    ...extra,
  };
}
