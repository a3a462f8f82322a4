// Container output buffers and the kubelet's log options (kubernetes.md §8.9): tailLines, limitBytes, timestamps, sinceSeconds.

import { logTime } from './clock.js';

interface Line {
  time: Date;
  text: string;
}

export interface LogOptions {
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
  sinceSeconds?: number;
}

export class LogBook {
  readonly #lines = new Map<string, Line[]>();

  static #key(ns: string, pod: string, container: string): string {
    return `${ns}/${pod}/${container}`;
  }

  /** Appends output; text without a trailing newline is continued by the next append. */
  append(ns: string, pod: string, container: string, text: string, time: Date): void {
    const key = LogBook.#key(ns, pod, container);
    const lines = this.#lines.get(key) ?? [];
    let rest = text;
    const last = lines.at(-1);
    if (last && !last.text.endsWith('\n')) {
      const nl = rest.indexOf('\n');
      const head = nl < 0 ? rest : rest.slice(0, nl + 1);
      last.text += head;
      rest = rest.slice(head.length);
    }
    // Split after each newline (a lookbehind split is linear; an alternation with `[^\n]+$` was not).
    for (const part of rest.split(/(?<=\n)/)) if (part !== '') lines.push({ time, text: part });
    this.#lines.set(key, lines);
  }

  dropPod(ns: string, pod: string): void {
    for (const key of [...this.#lines.keys()])
      if (key.startsWith(`${ns}/${pod}/`)) this.#lines.delete(key);
  }

  /** The bytes the log endpoint answers. limitBytes may cut inside a UTF-8 character, as the kubelet does. */
  read(ns: string, pod: string, container: string, opts: LogOptions, now: Date): Buffer {
    let lines = this.#lines.get(LogBook.#key(ns, pod, container)) ?? [];
    if (opts.sinceSeconds !== undefined) {
      const since = now.getTime() - opts.sinceSeconds * 1000;
      lines = lines.filter((l) => l.time.getTime() >= since);
    }
    if (opts.tailLines !== undefined)
      lines = opts.tailLines === 0 ? [] : lines.slice(-opts.tailLines);
    const text = lines
      .map((l) => (opts.timestamps ? `${logTime(l.time)} ${l.text}` : l.text))
      .join('');
    const bytes = Buffer.from(text, 'utf8');
    return opts.limitBytes !== undefined ? bytes.subarray(0, opts.limitBytes) : bytes;
  }
}
