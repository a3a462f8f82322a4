// INSTANCE_ID: tells apart several pman servers sharing one engine or namespace (issue 10, 12).
// Every backend puts it into its managed-by label value, so one instance never lists, reads or
// deletes another's jobs. Unset keeps the historical value, so jobs created before an upgrade
// stay readable.
import type { EnvReader } from './env-reader.js';

/** Short enough for a Kubernetes label value ("pman-" + 58 ≤ 63) and label syntax everywhere. */
const INSTANCE_ID = /^[a-z0-9](?:[a-z0-9-]{0,56}[a-z0-9])?$/;

/** The INSTANCE_ID, or undefined when unset; a malformed one is a start-up problem. */
export function readInstanceId(r: EnvReader): string | undefined {
  const value = r.string('INSTANCE_ID');
  if (value === undefined) return undefined;
  if (!INSTANCE_ID.test(value)) {
    r.problem(
      'INSTANCE_ID',
      `"${value.slice(0, 80)}" must be 1 to 58 lowercase letters, digits or "-", starting and ending with a letter or digit`,
    );
    return undefined;
  }
  return value;
}
