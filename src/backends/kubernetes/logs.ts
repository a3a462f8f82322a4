// A Job's log tail from its pods' logs (kubernetes.md §4): creation order, the container's
// non-Completed end reason appended, then the line tail and byte cap over the whole text.
import type { LogLimits } from '../../domain/job.js';
import { boundLogText } from '../../domain/logs.js';
import type { KubeClient, V1Pod } from './client.js';
import { sortPods } from './status.js';

/** readNamespacedPodLog's limitBytes keeps the *first* bytes, so ask for more than the cap needs. */
const LOG_READ_SLACK_BYTES = 1 << 20;

/** The bounded log tail of the Job `name` (its container carries the Job's name) over `pods`. */
export async function jobLogTail(
  client: Pick<KubeClient, 'readPodLog'>,
  name: string,
  pods: readonly V1Pod[],
  limits: LogLimits,
): Promise<string> {
  if (limits.tail <= 0 || limits.maxBytes <= 0) return '';
  const parts: string[] = [];
  for (const pod of sortPods(pods)) {
    const podName = pod.metadata?.name;
    if (podName === undefined) continue;
    let text = await readTail(client, podName, name, limits);
    const reason = pod.status?.containerStatuses?.find((cs) => cs.name === name)?.state?.terminated
      ?.reason;
    // pman's behaviour: a container killed for a reason says so after its output (e.g. OOMKilled).
    if (reason !== undefined && reason !== 'Completed') text += `\n${reason}`;
    parts.push(text);
  }
  return boundLogText(parts.join(''), limits);
}

/**
 * The last lines of one container. limitBytes bounds memory but keeps the *start* of the tail,
 * so when the answer hits it, fewer lines are asked for until the end of the log fits.
 */
async function readTail(
  client: Pick<KubeClient, 'readPodLog'>,
  pod: string,
  container: string,
  limits: LogLimits,
): Promise<string> {
  const limitBytes = limits.maxBytes + LOG_READ_SLACK_BYTES;
  let tailLines = limits.tail;
  for (;;) {
    const text = await client.readPodLog(pod, container, { tailLines, limitBytes });
    if (Buffer.byteLength(text) < limitBytes || tailLines <= 1) return text;
    tailLines = Math.floor(tailLines / 2);
  }
}
