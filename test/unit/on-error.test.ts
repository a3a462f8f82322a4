// The one error → status table (src/http/on-error.ts): the load-shedding answer of issue 10.
import { describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../../src/domain/errors.js';
import { toErrorAnswer } from '../../src/http/on-error.js';

describe('toErrorAnswer', () => {
  it('answers a TooManyRequestsError with 429 and Retry-After', () => {
    const answer = toErrorAnswer(new TooManyRequestsError('32 creates are already in progress'));
    expect(answer).toEqual({
      status: 429,
      message: '32 creates are already in progress',
      headers: { 'Retry-After': '1' },
    });
  });
});
