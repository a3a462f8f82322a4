// resource.Quantity parsing: the strict grammar of apimachinery, reduced to a number for comparisons.

/** The regular expression the real decode error quotes. */
export const QUANTITY_REGEX_TEXT = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

const GRAMMAR = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The quantity's value, or undefined when it does not parse (the API answers 400 then). */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = GRAMMAR.exec(q);
  if (!m) return undefined;
  const [, sign, digits = '', suffix = ''] = m;
  const base = Number(digits) * (sign === '-' ? -1 : 1);
  if (suffix === '') return base;
  if (/^[eE]/.test(suffix)) return base * 10 ** Number(suffix.slice(1));
  return base * (SUFFIX[suffix] ?? 1);
}

const DECIMAL_SUFFIX: Readonly<Record<number, string>> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;

/** mantissa × 10^exp, exact. */
interface Decimal {
  negative: boolean;
  mantissa: bigint;
  exp: number;
}

function decimalOf(digits: string, negative: boolean): Decimal {
  const [int = '', frac = ''] = digits.split('.');
  return { negative, mantissa: BigInt(`${int}${frac}` || '0'), exp: -frac.length };
}

function formatDecimalSI(d: Decimal): string {
  let { mantissa, exp } = d;
  if (mantissa === 0n) return '0';
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  let e3 = Math.floor(exp / 3) * 3;
  if (e3 < -9) {
    // Finer than nano: the API rounds up to whole nanos.
    const scale = 10n ** BigInt(-9 - exp);
    mantissa = (mantissa + scale - 1n) / scale;
    e3 = -9;
  } else {
    e3 = Math.min(e3, 18);
    mantissa *= 10n ** BigInt(exp - e3);
  }
  return `${d.negative ? '-' : ''}${mantissa}${DECIMAL_SUFFIX[e3] ?? ''}`;
}

/**
 * The canonical form the API server writes back: `1000m` → `1`, `0.5` → `500m`, `1024Mi` → `1Gi`.
 * Returns the input unchanged when it does not parse.
 */
export function canonicalQuantity(q: unknown): unknown {
  const text = typeof q === 'number' ? String(q) : q;
  if (typeof text !== 'string') return q;
  const m = GRAMMAR.exec(text);
  if (!m) return q;
  const [, sign, digits = '', suffix = ''] = m;
  const d = decimalOf(digits, sign === '-');
  const binary = BINARY_SUFFIX.indexOf(suffix as (typeof BINARY_SUFFIX)[number]);
  if (suffix !== '' && binary > 0) {
    // value = mantissa × 10^exp × 1024^binary; binary form only while it stays a whole number.
    const num = d.mantissa * 1024n ** BigInt(binary);
    const den = 10n ** BigInt(-d.exp);
    if (num % den !== 0n) return formatDecimalSI({ ...d, mantissa: num, exp: d.exp });
    let value = num / den;
    let j = 0;
    while (j < 6 && value !== 0n && value % 1024n === 0n) {
      value /= 1024n;
      j++;
    }
    return `${d.negative && value !== 0n ? '-' : ''}${value}${BINARY_SUFFIX[j] ?? ''}`;
  }
  if (/^[eE]/.test(suffix)) return formatDecimalSI({ ...d, exp: d.exp + Number(suffix.slice(1)) });
  const power = Object.entries(DECIMAL_SUFFIX).find(([, s]) => s === suffix)?.[0] ?? '0';
  return formatDecimalSI({ ...d, exp: d.exp + Number(power) });
}
