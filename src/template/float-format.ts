/**
 * CPython's float → text conversions (`PyOS_double_to_string` for `%e %f %g`, `format()`
 * and `round()`), correctly rounded half-to-even on the exact binary value as CPython's dtoa
 * does. JavaScript's `toFixed`/`toExponential` round exact ties *up* (`(0.5).toFixed(0)` is
 * `"1"`, Python's `'%.0f' % 0.5` is `'0'`), so they are only used where no tie is possible.
 */
import { pyFloatRepr } from '../heros/py-repr.js';
import { pyRaise } from './py-objects.js';

const ZERO_BODY = /^[0.]*(?:[eE].*)?$/;
const TRAILING_ZEROS = /0+$/;

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const MANTISSA_MASK = (1n << 52n) - 1n;

/** |x| = m · 2^e exactly, for a finite non-zero x. */
function decompose(x: number): { m: bigint; e: number } {
  F64[0] = x;
  const bits = U64[0] as bigint;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & MANTISSA_MASK;
  if (expBits === 0) return { m: frac, e: -1074 };
  return { m: frac | (1n << 52n), e: expBits - 1075 };
}

const POW10: bigint[] = [1n];
function pow10(k: number): bigint {
  while (POW10.length <= k) POW10.push((POW10[POW10.length - 1] as bigint) * 10n);
  return POW10[k] as bigint;
}

/** round-half-even(m · 2^e · 10^k) as an exact integer. */
function scaledRound(m: bigint, e: number, k: number): bigint {
  let num = m;
  let den = 1n;
  if (e > 0) num <<= BigInt(e);
  else if (e < 0) den <<= BigInt(-e);
  if (k > 0) num *= pow10(k);
  else if (k < 0) den *= pow10(-k);
  if (den === 1n) return num;
  const q = num / den;
  const twice = (num - q * den) * 2n;
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** `|x|` with `prec` digits after the point, e.g. `"12.50"`; `|x|` must be finite. */
export function fixedDigits(ax: number, prec: number): string {
  if (prec <= 100 && ax < 1e21) {
    // A tie needs x·10^(prec+1) to be an integer ending in 5, so x·2^(prec+1) must be an
    // integer; otherwise toFixed (exact, ties up) already gives the correctly rounded digits.
    if (!Number.isInteger(ax * 2 ** (prec + 1))) return ax.toFixed(prec);
  }
  if (ax === 0) return prec > 0 ? `0.${'0'.repeat(prec)}` : '0';
  const { m, e } = decompose(ax);
  let s = scaledRound(m, e, prec).toString();
  if (prec === 0) return s;
  if (s.length <= prec) s = '0'.repeat(prec - s.length + 1) + s;
  return `${s.slice(0, s.length - prec)}.${s.slice(s.length - prec)}`;
}

/**
 * `n` significant digits of `|x|` (> 0, finite), correctly rounded: the digit string and the
 * decimal exponent of its first digit.
 */
export function sigDigits(ax: number, n: number): { digits: string; exp: number } {
  const { m, e } = decompose(ax);
  let exp = Math.floor(Math.log10(ax));
  for (;;) {
    const q = scaledRound(m, e, n - 1 - exp);
    if (q >= pow10(n)) {
      exp += 1;
      continue;
    }
    if (q < pow10(n - 1)) {
      exp -= 1;
      continue;
    }
    return { digits: q.toString(), exp };
  }
}

function expSuffix(exp: number, upper: boolean): string {
  const sign = exp < 0 ? '-' : '+';
  return `${upper ? 'E' : 'e'}${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Options of {@link doubleToString}, mirroring CPython's `Py_DTSF_*` flags. */
export interface DtoaFlags {
  /** `#`: keep trailing zeros / the decimal point. */
  alt?: boolean;
  /** Add `.0` to integral results (format() without a type). */
  addDot0?: boolean;
  /** `z`: turn a negative zero result into a positive one. */
  noNeg0?: boolean;
}

/**
 * CPython's `PyOS_double_to_string(x, code, precision, flags)` for the codes
 * `e E f F g G r`. The sign is included (`-` only).
 */
export function doubleToString(x: number, code: string, precision: number, flags: DtoaFlags = {}): string {
  const upper = code === 'E' || code === 'F' || code === 'G';
  if (Number.isNaN(x)) return upper ? 'NAN' : 'nan';
  if (!Number.isFinite(x)) return (x < 0 ? '-' : '') + (upper ? 'INF' : 'inf');
  const negative = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  let body: string;
  switch (code) {
    case 'f':
    case 'F': {
      body = fixedDigits(ax, precision);
      if (precision === 0 && flags.alt) body += '.';
      break;
    }
    case 'e':
    case 'E': {
      const { digits, exp } = ax === 0 ? { digits: '0'.repeat(precision + 1), exp: 0 } : sigDigits(ax, precision + 1);
      const point = precision > 0 || flags.alt ? '.' : '';
      body = `${digits[0] ?? '0'}${point}${digits.slice(1)}${expSuffix(exp, upper)}`;
      break;
    }
    case 'g':
    case 'G': {
      body = general(ax, precision === 0 ? 1 : precision, flags, upper);
      break;
    }
    case 'r': {
      body = pyFloatRepr(ax);
      break;
    }
    default:
      throw new Error(`doubleToString: unknown code ${code}`);
  }
  if (negative && flags.noNeg0 && ZERO_BODY.test(body)) return body;
  return negative ? `-${body}` : body;
}

/** CPython `format_float_short` in `g` mode (mode 2 digits, then the 'vdigits' layout). */
function general(ax: number, precision: number, flags: DtoaFlags, upper: boolean): string {
  let digits: string;
  let decpt: number;
  if (ax === 0) {
    digits = '0';
    decpt = 1;
  } else {
    const sd = sigDigits(ax, precision);
    digits = sd.digits.replace(TRAILING_ZEROS, '');
    if (digits === '') digits = '0';
    decpt = sd.exp + 1;
  }
  const alt = flags.alt === true;
  const addDot0 = flags.addDot0 === true;
  let vEnd = alt ? precision : digits.length;
  let useExp = false;
  let exp = 0;
  if (decpt <= -4 || decpt > (addDot0 ? precision - 1 : precision)) useExp = true;
  if (useExp) {
    exp = decpt - 1;
    decpt = 1;
  }
  const vStart = decpt <= 0 ? decpt - 1 : 0;
  if (!useExp && addDot0) vEnd = vEnd > decpt ? vEnd : decpt + 1;
  else vEnd = vEnd > decpt ? vEnd : decpt;
  let out = '';
  if (decpt <= 0) out += `${'0'.repeat(decpt - vStart)}.${'0'.repeat(-decpt)}`;
  else out += '0'.repeat(-vStart);
  if (decpt > 0 && decpt <= digits.length) out += `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  else out += digits;
  if (digits.length < decpt) out += `${'0'.repeat(decpt - digits.length)}.${'0'.repeat(vEnd - decpt)}`;
  else out += '0'.repeat(vEnd - digits.length);
  if (out.endsWith('.') && !alt) out = out.slice(0, -1);
  if (useExp) out += expSuffix(exp, upper);
  return out;
}

/**
 * Python's `round(x, ndigits)` for a float (CPython `double_round`): correctly rounded
 * half-to-even on the exact value, then read back as the nearest double.
 */
export function roundFloat(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (ndigits > 323) return x;
  if (ndigits < -308) return 0 * x;
  const { m, e } = decompose(Math.abs(x));
  const q = scaledRound(m, e, ndigits);
  const r = Number(`${q}e${-ndigits}`);
  if (!Number.isFinite(r)) {
    pyRaise('OverflowError', 'rounded value too large to represent');
  }
  return x < 0 ? -r : r;
}
