// Scenarios (kubernetes.md §8.6): which steps a Job's pods follow, and how far each Job has got.

import type { Job, Step } from './types.js';

/** What an unknown image does: start, pull, run, exit 0. */
export const DEFAULT_SCENARIO: readonly Step[] = [
  { pod: 'create' },
  { schedule: true },
  { waiting: 'ContainerCreating' },
  { running: true },
  { exit: 0 },
];

/** Follow-up work the real controller does in a later sync, kept as separate steps so tests can stop between. */
export type FollowUp = { kind: 'count' } | { kind: 'kill'; reason: string; message: string };

/** One Job's progress through its scenario (a recreated Job of the same name starts over). */
export interface Run {
  uid: string;
  steps: Step[] | undefined;
  next: number;
  queue: FollowUp[];
}

export class Scenarios {
  readonly #scenarios = new Map<string, Step[]>();
  readonly #runs = new Map<string, Run>();

  set(imageOrJob: string, steps: Step[]): void {
    this.#scenarios.set(imageOrJob, structuredClone(steps));
  }

  /** The Job's run; its steps are chosen at the first step, so a scenario registered just after the create still applies. */
  runOf(job: Job): Run {
    const key = `${job.metadata.namespace ?? ''}/${job.metadata.name ?? ''}`;
    let run = this.#runs.get(key);
    if (!run || run.uid !== job.metadata.uid) {
      run = { uid: job.metadata.uid ?? '', steps: undefined, next: 0, queue: [] };
      this.#runs.set(key, run);
    }
    if (!run.steps) {
      const image = job.spec.template.spec?.containers?.[0]?.image ?? '';
      run.steps = structuredClone(
        this.#scenarios.get(job.metadata.name ?? '') ??
          this.#scenarios.get(image) ?? [...DEFAULT_SCENARIO],
      );
    }
    return run;
  }

  forget(ns: string, name: string): void {
    this.#runs.delete(`${ns}/${name}`);
  }
}
