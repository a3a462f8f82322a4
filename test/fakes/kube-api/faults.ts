// Injected failures (kubernetes.md §8.10): one-shot failNext answers and RBAC deny rules.

import type { FaultAnswer, RequestMatch } from './types.js';

export class Faults {
  readonly #next: { match: RequestMatch; answer: FaultAnswer }[] = [];
  readonly #denied: { verb: string; resource: string }[] = [];

  failNext(match: RequestMatch, answer: FaultAnswer): void {
    this.#next.push({ match, answer });
  }

  /** The answer for this request, consumed, if a failNext() rule matches it. */
  take(method: string, path: string): FaultAnswer | undefined {
    const i = this.#next.findIndex(({ match }) => {
      if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
      if (match.path === undefined) return true;
      return typeof match.path === 'string' ? match.path === path : match.path.test(path);
    });
    if (i < 0) return undefined;
    return this.#next.splice(i, 1)[0]?.answer;
  }

  deny(rule: { verb: string; resource: string }): void {
    this.#denied.push(rule);
  }

  /** `resource` as RBAC names it: `jobs`, `pods`, `pods/log`; '*' in a rule matches anything. */
  isDenied(verb: string, resource: string): boolean {
    return this.#denied.some(
      (d) => (d.verb === '*' || d.verb === verb) && (d.resource === '*' || d.resource === resource),
    );
  }
}
