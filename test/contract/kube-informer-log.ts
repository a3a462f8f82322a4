// What the backend's informers have delivered, observed by wrapping its client's informer handlers:
// the rig waits on this log instead of asking the backend (which carries no test-only members).
import type {
  KubeClient,
  V1Job,
  V1Pod,
  WatchHandlers,
} from '../../src/backends/kubernetes/client.js';
import { jobNameOfPod } from '../../src/backends/kubernetes/view.js';

interface Seen {
  resourceVersion: string;
  /** The Job a pod belongs to; the Job's own name for a Job. */
  job: string;
}

/** The resourceVersion of every Job and pod the informers currently hold, as their handlers saw it. */
export class InformerLog {
  readonly #jobs = new Map<string, Seen>();
  readonly #pods = new Map<string, Seen>();

  /** `client` with informers whose handlers report here after the backend's own handlers ran. */
  observe(client: KubeClient): KubeClient {
    return {
      ...client,
      jobInformer: (selector, handlers) =>
        client.jobInformer(
          selector,
          this.#wrap(handlers, this.#jobs, (j) => j.metadata?.name),
        ),
      podInformer: (selector, handlers) =>
        client.podInformer(selector, this.#wrap(handlers, this.#pods, jobNameOfPod)),
    };
  }

  /** The Job's resourceVersion and its pods' (name → resourceVersion) as delivered so far. */
  versions(job: string): { job?: string; pods: Record<string, string> } {
    const pods = [...this.#pods].filter(([, seen]) => seen.job === job);
    const own = this.#jobs.get(job)?.resourceVersion;
    return {
      ...(own !== undefined && { job: own }),
      pods: Object.fromEntries(pods.map(([name, seen]) => [name, seen.resourceVersion])),
    };
  }

  #wrap<T extends V1Job | V1Pod>(
    handlers: WatchHandlers<T>,
    into: Map<string, Seen>,
    jobOf: (obj: T) => string | undefined,
  ): WatchHandlers<T> {
    return {
      ...handlers,
      upsert: (obj) => {
        handlers.upsert(obj);
        const name = obj.metadata?.name;
        if (name === undefined) return;
        into.set(name, {
          resourceVersion: obj.metadata?.resourceVersion ?? '',
          job: jobOf(obj) ?? '',
        });
      },
      remove: (obj) => {
        handlers.remove(obj);
        const name = obj.metadata?.name;
        if (name !== undefined) into.delete(name);
      },
    };
  }
}
