// The create body's field names in the wire's order: pman's 13 (its validation bundle lists
// errors in exactly this order), then the fields added since. The HTTP layer validates by them and
// the service names the fields two requests differ in by them (a 409) — one list for both.

/** pman's field order. */
export const FIELD_ORDER = [
  'jid',
  'args',
  'args_path_flags',
  'auid',
  'number_of_workers',
  'cpu_limit',
  'memory_limit',
  'gpu_limit',
  'image',
  'entrypoint',
  'type',
  'input_dir',
  'output_dir',
] as const;

/** The job-control fields (issue 13) and `service` (issue 15). */
export const JOB_CONTROL_FIELDS = [
  'timeout_seconds',
  'priority',
  'retries',
  'labels',
  'service',
] as const;

/** Every field of a create body, in the wire's order. */
export const CREATE_FIELD_ORDER: readonly string[] = [
  ...FIELD_ORDER,
  'env',
  'callback_url',
  ...JOB_CONTROL_FIELDS,
];
