// The Kubernetes job-name rule (api.md §5.3): a DNS-1123 label, as Job and Pod names must be.
import type { JobNameRule } from '../../domain/capabilities.js';

export const KUBERNETES_JOB_NAME: JobNameRule = {
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
  rule: "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
};
