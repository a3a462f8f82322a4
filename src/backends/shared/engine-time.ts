// Times as the Engine writes them: an unset time is Go's zero time, which never reaches the wire.

const ZERO_TIME = /^0001-01-01T00:00:00(\.0+)?Z$/;

/** True when the engine gave a real time (not empty, not Go's zero time). */
export function isSetTime(t: string | undefined): t is string {
  return t !== undefined && t !== '' && !ZERO_TIME.test(t);
}
