// Python's int(), repr() and str() as pman's request parser applied them to JSON values (api.md §5.2).

/** Largest magnitude we accept after coercion: beyond it a JS number stops being exact. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** What int() strips around the digits: ASCII " \t\n\v\f\r" and the non-ASCII characters of str.isspace().
 *  (The ASCII separators \x1c-\x1f count as space for isspace() but not for int().) */
const PY_SPACE =
  '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** int(x, 10) for a str: optional space, optional sign, digits with single '_' between them. Python also takes
 *  non-ASCII decimal digits; api.md §5.2 admits ASCII digits only, so those are refused here. */
const INT_LITERAL = new RegExp(`^[${PY_SPACE}]*([+-]?)([0-9](?:_?[0-9])*)[${PY_SPACE}]*$`);

export type PyIntResult =
  | { ok: true; value: number }
  | { ok: false; reason: 'invalid'; message: string }
  | { ok: false; reason: 'range' };

/** Python `int(value)` for a decoded JSON value, limited to JS-safe integers. */
export function pyInt(value: unknown): PyIntResult {
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value === 'number') {
    // JSON cannot carry NaN or Infinity, so every number here is finite.
    const truncated = Math.trunc(value) + 0; // `+ 0` turns -0 into 0
    return Number.isSafeInteger(truncated)
      ? { ok: true, value: truncated }
      : { ok: false, reason: 'range' };
  }
  if (typeof value === 'string') {
    const match = INT_LITERAL.exec(value);
    if (match === null) {
      // CPython formats this message with "%.200R": the repr is cut after 200 characters.
      const shown = [...pyRepr(value)].slice(0, 200).join('');
      return {
        ok: false,
        reason: 'invalid',
        message: `invalid literal for int() with base 10: ${shown}`,
      };
    }
    const big = BigInt(`${match[1] ?? ''}${(match[2] ?? '').replaceAll('_', '')}`);
    if (big > MAX_SAFE || big < -MAX_SAFE) return { ok: false, reason: 'range' };
    return { ok: true, value: Number(big) + 0 };
  }
  return {
    ok: false,
    reason: 'invalid',
    message: `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'`,
  };
}

/** Python's type name of a decoded JSON value. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  // JSON.parse yields nothing else: the rest are objects.
  return 'dict';
}

/** Python's str.isprintable(), per character: false for Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs but ' '. */
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Python `repr(s)` of a str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) out += escapeCodePoint(ch.codePointAt(0) ?? 0);
    else out += ch;
  }
  return out + quote;
}

function escapeCodePoint(cp: number): string {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** Python `str(value)` of a decoded JSON value (how pman echoed a value in "<x> is not a valid choice"). */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyValueRepr(value);
}

function pyValueRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pyRepr(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumber(value);
  if (Array.isArray(value)) return `[${value.map(pyValueRepr).join(', ')}]`;
  const items = Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyValueRepr(v)}`);
  return `{${items.join(', ')}}`;
}

/** A JSON number as Python prints it: integers in full, floats with repr()'s notation. */
function pyNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n + 0);
  // Python switches to exponent notation outside 1e-4 <= |n| < 1e16, with at least two exponent digits.
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa = '', exponent = '0'] = n.toExponential().split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exponent.replace(/^[+-]/, '').padStart(2, '0')}`;
  }
  return String(n);
}
