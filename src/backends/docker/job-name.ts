// The Docker job-name rule (api.md §5.3): the engine's container-name rule, with our length cap.
import type { JobNameRule } from '../../domain/capabilities.js';

export const DOCKER_JOB_NAME: JobNameRule = {
  pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
  maxLength: 63,
  rule: "2-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
};
