// The fake's injectable clock, and the API server's timestamp format (RFC 3339, whole seconds, 'Z').

export interface FakeClock {
  now(): Date;
  set(d: Date): void;
  tick(ms: number): void;
}

/** A manual clock: time moves only through set() and tick(); listeners run after every move (TTL, deadlines). */
export function createFakeClock(start: Date, onMove: () => void): FakeClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    set(d: Date) {
      current = d.getTime();
      onMove();
    },
    tick(ms: number) {
      current += ms;
      onMove();
    },
  };
}

/** `2026-11-22T14:16:57Z`: metav1.Time serializes with second precision. */
export function apiTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2026-11-22T14:16:57.123000000Z`: the kubelet's log timestamps (RFC 3339 with nine fraction digits). */
export function logTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}
