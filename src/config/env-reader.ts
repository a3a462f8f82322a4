// Reads single environment variables through small zod schemas and collects every problem as one
// line "NAME: what is wrong", so loadConfig can report all mistakes at once (api.md §14).
import { z } from 'zod';
import type { Parsed } from './syntax.js';

export type Env = Readonly<Record<string, string | undefined>>;

const BOOLEAN_WORDS = ['yes', 'no', 'true', 'false', '1', '0', 'on', 'off'] as const;
const booleanSchema = z.stringbool({
  truthy: ['yes', 'true', '1', 'on'],
  falsy: ['no', 'false', '0', 'off'],
  case: 'insensitive',
});
const digitsSchema = z.string().regex(/^[0-9]+$/);
const decimalSchema = z.string().regex(/^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/);

export interface IntRange {
  min: number;
  max?: number;
}

function describeRange({ min, max }: IntRange): string {
  return max === undefined ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
}

export interface EnvReader {
  /** The trimmed value; an empty value counts as unset (compose files often write `VAR=`). */
  raw(name: string): string | undefined;
  isSet(name: string): boolean;
  string(name: string): string | undefined;
  bool(name: string, fallback: boolean): boolean;
  /** undefined when unset or invalid (the problem is recorded). */
  optionalBool(name: string): boolean | undefined;
  int(name: string, fallback: number, range: IntRange): number;
  optionalInt(name: string, range: IntRange): number | undefined;
  /** A decimal number with 0 < value ≤ max (JOB_REQUEST_RATIO). */
  fraction(name: string, fallback: number): number;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  parsed<T>(name: string, parse: (raw: string) => Parsed<T>): T | undefined;
  problem(name: string, text: string): void;
  warn(text: string): void;
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
}

export function createEnvReader(env: Env): EnvReader {
  const problems: string[] = [];
  const warnings: string[] = [];
  const problem = (name: string, text: string): void => {
    problems.push(`${name}: ${text}`);
  };
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const optionalBool = (name: string): boolean | undefined => {
    const value = raw(name);
    if (value === undefined) return undefined;
    const result = booleanSchema.safeParse(value);
    if (result.success) return result.data;
    problem(name, `"${value}" is not one of ${BOOLEAN_WORDS.join(', ')}`);
    return undefined;
  };
  const optionalInt = (name: string, range: IntRange): number | undefined => {
    const value = raw(name);
    if (value === undefined) return undefined;
    const schema = z
      .number()
      .int()
      .min(range.min)
      .max(range.max ?? Number.MAX_SAFE_INTEGER);
    const digits = digitsSchema.safeParse(value);
    const result = digits.success ? schema.safeParse(Number(value)) : undefined;
    if (result?.success === true) return result.data;
    problem(name, `"${value}" is not ${describeRange(range)}`);
    return undefined;
  };
  return {
    problems,
    warnings,
    problem,
    raw,
    isSet: (name) => raw(name) !== undefined,
    string: raw,
    warn: (text) => {
      warnings.push(text);
    },
    bool: (name, fallback) => optionalBool(name) ?? fallback,
    optionalBool,
    int: (name, fallback, range) => optionalInt(name, range) ?? fallback,
    optionalInt,
    fraction: (name, fallback) => {
      const value = raw(name);
      if (value === undefined) return fallback;
      const result = decimalSchema.safeParse(value);
      const n = Number(value);
      if (result.success && n > 0 && n <= 1) return n;
      problem(name, `"${value}" is not a number greater than 0 and at most 1`);
      return fallback;
    },
    oneOf: <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
      const value = raw(name);
      if (value === undefined) return fallback;
      const result = z.enum(allowed as [T, ...T[]]).safeParse(value);
      if (result.success) return result.data;
      problem(name, `"${value}" is not one of ${allowed.join(', ')}`);
      return fallback;
    },
    parsed: <T>(name: string, parse: (raw: string) => Parsed<T>): T | undefined => {
      const value = raw(name);
      if (value === undefined) return undefined;
      const result = parse(value);
      if (result.ok) return result.value;
      problem(name, result.error);
      return undefined;
    },
  };
}
