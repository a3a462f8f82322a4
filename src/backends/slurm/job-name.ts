// The Slurm job-name rule (api.md §5.3): the jid is the batch job's name and part of its output
// file's name, so no '%' (a filename pattern in Slurm), '/' or space; letters, digits, '-', '_'.
import type { JobNameRule } from '../../domain/capabilities.js';

export const SLURM_JOB_NAME: JobNameRule = {
  pattern: /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/,
  maxLength: 100,
  rule: "1-100 letters, digits, '-' or '_', starting and ending with a letter or digit",
};
