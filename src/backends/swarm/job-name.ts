// The Swarm job-name rule (api.md §5.3): swarmkit's "valid as a DNS name component".
import type { JobNameRule } from '../../domain/capabilities.js';

export const SWARM_JOB_NAME: JobNameRule = {
  // Linear: no nested quantifiers (the old (?:[-_]*[A-Za-z0-9]+)* backtracked exponentially).
  pattern: /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/,
  maxLength: 63,
  rule: "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
};
