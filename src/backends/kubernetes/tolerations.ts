// JOB_TOLERATIONS in kubectl's taint syntax: `key[=value]:Effect`, comma-separated. Pure: a value
// or one human-readable reason, never a throw.
import type { Parsed } from '../../config/syntax.js';
import { labelKeyProblem, labelValueProblem, listItems } from '../../config/syntax.js';

export interface Toleration {
  key: string;
  operator: 'Equal' | 'Exists';
  value?: string;
  effect: string;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

export function parseTolerations(raw: string): Parsed<Toleration[]> {
  const out: Toleration[] = [];
  const problems: string[] = [];
  for (const item of listItems(raw)) {
    const colon = item.lastIndexOf(':');
    const effect = colon >= 0 ? item.slice(colon + 1) : '';
    const keyValue = colon >= 0 ? item.slice(0, colon) : item;
    if (!(TAINT_EFFECTS as readonly string[]).includes(effect)) {
      problems.push(
        `"${item}" is not key[=value]:Effect with Effect one of ${TAINT_EFFECTS.join(', ')}`,
      );
      continue;
    }
    const eq = keyValue.indexOf('=');
    const key = eq >= 0 ? keyValue.slice(0, eq) : keyValue;
    const value = eq >= 0 ? keyValue.slice(eq + 1) : undefined;
    const problem =
      key === ''
        ? `"${item}" has an empty key`
        : (labelKeyProblem(key) ??
          (value === undefined ? undefined : labelValueProblem(key, value)));
    if (problem !== undefined) {
      problems.push(problem);
      continue;
    }
    out.push(
      value === undefined
        ? { key, operator: 'Exists', effect }
        : { key, operator: 'Equal', value, effect },
    );
  }
  return problems.length > 0 ? { ok: false, error: problems.join('; ') } : { ok: true, value: out };
}
