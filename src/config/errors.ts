// Start-up configuration errors (never an HTTP answer: the server does not start).
import { JobError } from '../domain/errors.js';

/** A configuration problem found at start-up; `problems` has one line per problem. */
export class ConfigError extends JobError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}
