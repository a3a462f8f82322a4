// Objects per resource and namespace, the global resourceVersion counter, and the change log watches replay.

import type { KubeObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  type: ChangeType;
  /** Resource key, e.g. 'batch/jobs' or '/pods'. */
  resource: string;
  object: KubeObject;
}

type Listener = (change: Change) => void;

/** Resource keys are `<group>/<plural>`; the core group is ''. */
export function resourceKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

export class Store {
  #rv = 0;
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #log = new Map<string, Change[]>();
  /** Per resource: the newest rv dropped from the log; watches from below it are expired. */
  readonly #dropped = new Map<string, number>();
  /** expireResourceVersions(): every rv up to this one is gone, for every resource. */
  #expiredUpTo = 0;
  readonly #listeners = new Set<Listener>();
  readonly #window: number;

  constructor(window: number) {
    this.#window = window;
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #bucket(resource: string): Map<string, KubeObject> {
    let b = this.#objects.get(resource);
    if (!b) {
      b = new Map();
      this.#objects.set(resource, b);
    }
    return b;
  }

  static #id(ns: string | undefined, name: string): string {
    return `${ns ?? ''}/${name}`;
  }

  get(resource: string, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.#bucket(resource).get(Store.#id(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  /** All objects of a resource, in creation order; namespace undefined = all namespaces. */
  list(resource: string, ns: string | undefined): KubeObject[] {
    return [...this.#bucket(resource).values()]
      .filter((o) => ns === undefined || o.metadata.namespace === ns)
      .map((o) => structuredClone(o));
  }

  #record(resource: string, type: ChangeType, object: KubeObject): void {
    const rv = ++this.#rv;
    object.metadata.resourceVersion = String(rv);
    const change: Change = { rv, type, resource, object: structuredClone(object) };
    const log = this.#log.get(resource) ?? [];
    log.push(change);
    while (log.length > this.#window) {
      const gone = log.shift();
      if (gone) this.#dropped.set(resource, gone.rv);
    }
    this.#log.set(resource, log);
    for (const fn of this.#listeners) fn(change);
  }

  /** Stores a new object (the caller checked it does not exist) and returns the stored copy. */
  create(resource: string, obj: KubeObject): KubeObject {
    const copy = structuredClone(obj);
    this.#bucket(resource).set(Store.#id(copy.metadata.namespace, copy.metadata.name ?? ''), copy);
    this.#record(resource, 'ADDED', copy);
    return structuredClone(copy);
  }

  /** Replaces an existing object with a new resourceVersion. */
  update(resource: string, obj: KubeObject): KubeObject {
    const copy = structuredClone(obj);
    this.#bucket(resource).set(Store.#id(copy.metadata.namespace, copy.metadata.name ?? ''), copy);
    this.#record(resource, 'MODIFIED', copy);
    return structuredClone(copy);
  }

  /** Removes an object; the DELETED change carries its last state with a new resourceVersion. */
  remove(resource: string, ns: string | undefined, name: string): KubeObject | undefined {
    const b = this.#bucket(resource);
    const id = Store.#id(ns, name);
    const obj = b.get(id);
    if (!obj) return undefined;
    b.delete(id);
    this.#record(resource, 'DELETED', obj);
    return structuredClone(obj);
  }

  /** Changes after `rv` for one resource, or the oldest rv still known when `rv` fell out of the window. */
  changesSince(resource: string, rv: number): { changes: Change[] } | { expired: number } {
    const log = this.#log.get(resource) ?? [];
    const floor = Math.max(this.#dropped.get(resource) ?? 0, this.#expiredUpTo);
    if (rv < floor) return { expired: log[0]?.rv ?? floor };
    return { changes: log.filter((c) => c.rv > rv).map((c) => structuredClone(c)) };
  }

  /**
   * Test hook: an etcd compaction after one more (invisible) write, so every resourceVersion handed out
   * so far is too old while a fresh list's resourceVersion is valid.
   */
  expireAll(): void {
    this.#rv++;
    this.#expiredUpTo = this.#rv;
    this.#log.clear();
  }
}
