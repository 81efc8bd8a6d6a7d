/**
 * Python number semantics on the value model: `int` is a safe-integer `number` or a `bigint`,
 * `bool` counts as an int, `float` is a non-whole `number` or a {@link PyFloat}.
 *
 * Int arithmetic is exact (falls back to BigInt when a result leaves the safe range, as Python
 * ints never overflow); float arithmetic is IEEE double like CPython's, with its
 * ZeroDivisionError/OverflowError cases.
 */
import { PyFloat, pyFloat } from '../heros/values.js';
import { pyRaise, pyTypeName, type Val } from './py-objects.js';

/** A Python int (bool included) as a JS number or bigint. */
export type PyInt = number | bigint;

/** True for a Python int or bool. */
export function isIntLike(v: Val): v is number | bigint | boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint' || typeof v === 'boolean';
}

/** True for a Python float. */
export function isFloat(v: Val): v is number | PyFloat {
  return v instanceof PyFloat || (typeof v === 'number' && !Number.isInteger(v));
}

/** True for int, bool or float. */
export function isNumber(v: Val): v is number | bigint | boolean | PyFloat {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v instanceof PyFloat;
}

/** The int value of an int or bool. */
export function intOf(v: number | bigint | boolean): PyInt {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** A bigint as a Python int value: a number when safe. */
export function normBig(b: bigint): PyInt {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Python `float(int)`, raising OverflowError like CPython for huge ints. */
export function intToFloat(i: PyInt): number {
  if (typeof i === 'number') return i;
  const x = Number(i);
  if (!Number.isFinite(x)) pyRaise('OverflowError', 'int too large to convert to float');
  return x;
}

/** The double value of any Python number. */
export function floatOf(v: number | bigint | boolean | PyFloat): number {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return intToFloat(v);
  return v;
}

/** A double as a Python float value. */
export const mkFloat = pyFloat;

function big(i: PyInt): bigint {
  return typeof i === 'bigint' ? i : BigInt(i);
}

/** Exact int addition. */
export function intAdd(a: PyInt, b: PyInt): PyInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r + 0;
  }
  return normBig(big(a) + big(b));
}

/** Exact int subtraction. */
export function intSub(a: PyInt, b: PyInt): PyInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r + 0;
  }
  return normBig(big(a) - big(b));
}

/** Exact int multiplication. */
export function intMul(a: PyInt, b: PyInt): PyInt {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a * b;
    // A product whose double is a safe integer was computed exactly.
    if (Number.isSafeInteger(r)) return r + 0;
  }
  return normBig(big(a) * big(b));
}

/** Python `a // b` on ints (floor division). */
export function intFloorDiv(a: PyInt, b: PyInt): PyInt {
  if (b === 0 || b === 0n) pyRaise('ZeroDivisionError', 'integer division or modulo by zero');
  if (typeof a === 'number' && typeof b === 'number') {
    // For safe integers the rounded quotient never crosses an integer boundary.
    return Math.floor(a / b) + 0;
  }
  const x = big(a);
  const y = big(b);
  let q = x / y;
  if (x % y !== 0n && (x < 0n) !== (y < 0n)) q -= 1n;
  return normBig(q);
}

/** Python `a % b` on ints (result has the sign of the divisor). */
export function intMod(a: PyInt, b: PyInt): PyInt {
  if (b === 0 || b === 0n) pyRaise('ZeroDivisionError', 'integer division or modulo by zero');
  if (typeof a === 'number' && typeof b === 'number') {
    let r = a % b;
    if (r !== 0 && r < 0 !== b < 0) r += b;
    return r + 0;
  }
  const y = big(b);
  let r = big(a) % y;
  if (r !== 0n && r < 0n !== y < 0n) r += y;
  return normBig(r);
}

function bitLength(b: bigint): number {
  return (b < 0n ? -b : b).toString(2).length;
}

/**
 * Python `a / b` on ints: the correctly rounded true quotient (as CPython's
 * `long_true_divide`), also for ints beyond 2**53.
 */
export function intTrueDiv(a: PyInt, b: PyInt): number {
  if (b === 0 || b === 0n) pyRaise('ZeroDivisionError', 'division by zero');
  if (typeof a === 'number' && typeof b === 'number') return a / b;
  let x = big(a);
  let y = big(b);
  const negative = x < 0n !== y < 0n;
  if (x < 0n) x = -x;
  if (y < 0n) y = -y;
  if (x === 0n) return negative ? -0 : 0;
  // Scale so the integer quotient has at least 55 significant bits, fold the remainder into
  // a sticky bit, and let Number() round once (ties-to-even) like CPython.
  const shift = Math.max(0, 55 + bitLength(y) - bitLength(x));
  const scaled = x << BigInt(shift);
  let q = scaled / y;
  if (q * y !== scaled) q |= 1n;
  let r = Number(q);
  let s = shift;
  while (s > 0) {
    const step = Math.min(s, 1000);
    r /= 2 ** step;
    s -= step;
  }
  if (!Number.isFinite(r)) pyRaise('OverflowError', 'integer division result too large for a float');
  return negative ? -r : r;
}

/** Python float `divmod` (CPython's `_float_div_mod`): [floordiv, mod]. */
export function floatDivMod(vx: number, wx: number, what: string): [number, number] {
  if (wx === 0) pyRaise('ZeroDivisionError', what);
  let mod = vx % wx;
  let div = (vx - mod) / wx;
  // C truth tests: NaN counts as non-zero here, as in CPython.
  if (mod !== 0) {
    if (wx < 0 !== mod < 0) {
      mod += wx;
      div -= 1;
    }
  } else {
    mod = wx < 0 ? -0 : 0;
  }
  let floordiv: number;
  if (div !== 0) {
    floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
  } else {
    const q = vx / wx;
    floordiv = q < 0 || Object.is(q, -0) ? -0 : 0;
  }
  return [floordiv, mod];
}

/** Cap on the size of int results of `**`, so a template cannot hang the process. */
const MAX_POW_BITS = 1_000_000;

/** Python `a ** b` on ints. */
export function intPow(a: PyInt, b: PyInt): Val {
  if (b < 0) {
    const fa = intToFloat(a);
    const fb = intToFloat(b);
    if (fa === 0) pyRaise('ZeroDivisionError', '0.0 cannot be raised to a negative power');
    return floatPow(fa, fb);
  }
  const base = big(a);
  const exp = big(b);
  if (base === 0n || base === 1n) return exp === 0n ? 1 : normBig(base);
  if (base === -1n) return exp % 2n === 0n ? 1 : -1;
  if (Number(exp) * bitLength(base) > MAX_POW_BITS) {
    pyRaise('OverflowError', 'integer power result too large for a template');
  }
  return normBig(base ** exp);
}

/** Python float `**` (CPython `float_pow`, without complex results). */
export function floatPow(x: number, y: number): Val {
  if (y === 0) return mkFloat(1);
  if (Number.isNaN(x)) return x === 1 ? mkFloat(1) : Number.NaN;
  if (Number.isNaN(y)) return x === 1 ? mkFloat(1) : Number.NaN;
  if (x === 0 && y < 0 && Number.isFinite(y)) {
    pyRaise('ZeroDivisionError', '0.0 cannot be raised to a negative power');
  }
  if (x < 0 && Number.isFinite(x) && Number.isFinite(y) && !Number.isInteger(y)) {
    // Python 3 returns a complex number here; the value model has no complex type.
    pyRaise('ValueError', 'negative number cannot be raised to a fractional power (complex result)');
  }
  const r = x ** y;
  if (!Number.isFinite(r) && Number.isFinite(x) && Number.isFinite(y)) {
    pyRaise('OverflowError', '(34, \'Numerical result out of range\')');
  }
  return mkFloat(r);
}

type Num = number | bigint | boolean | PyFloat;

/** Python `+`, `-`, `*`, `/`, `//`, `%`, `**` on two numbers. */
export function numBinOp(op: string, a: Num, b: Num): Val {
  const aInt = !(a instanceof PyFloat) && (typeof a !== 'number' || Number.isInteger(a));
  const bInt = !(b instanceof PyFloat) && (typeof b !== 'number' || Number.isInteger(b));
  if (aInt && bInt) {
    const x = intOf(a as number | bigint | boolean);
    const y = intOf(b as number | bigint | boolean);
    switch (op) {
      case '+':
        return intAdd(x, y);
      case '-':
        return intSub(x, y);
      case '*':
        return intMul(x, y);
      case '/':
        return mkFloat(intTrueDiv(x, y));
      case '//':
        return intFloorDiv(x, y);
      case '%':
        return intMod(x, y);
      case '**':
        return intPow(x, y);
    }
    pyRaise('TypeError', `unsupported operand ${op}`);
  }
  const x = floatOf(a);
  const y = floatOf(b);
  switch (op) {
    case '+':
      return mkFloat(x + y);
    case '-':
      return mkFloat(x - y);
    case '*':
      return mkFloat(x * y);
    case '/':
      if (y === 0) pyRaise('ZeroDivisionError', 'float division by zero');
      return mkFloat(x / y);
    case '//':
      return mkFloat(floatDivMod(x, y, 'float floor division by zero')[0]);
    case '%':
      return mkFloat(floatDivMod(x, y, 'float modulo')[1]);
    case '**':
      return floatPow(x, y);
  }
  pyRaise('TypeError', `unsupported operand ${op}`);
}

/** Python unary minus on a number. */
export function numNeg(v: Num): Val {
  if (v instanceof PyFloat) return mkFloat(-v.value);
  if (typeof v === 'boolean') return v ? -1 : 0;
  if (typeof v === 'bigint') return normBig(-v);
  if (Number.isInteger(v)) return -v + 0;
  return -v;
}

/** Python `abs()` on a number. */
export function numAbs(v: Num): Val {
  if (v instanceof PyFloat) return mkFloat(Math.abs(v.value));
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return normBig(v < 0n ? -v : v);
  return Math.abs(v);
}

/**
 * Python's `math.floor`/`math.ceil`: an int from an int, float or bool, raising like CPython
 * for NaN and infinities.
 */
export function floorCeil(v: Val, ceil: boolean): PyInt {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' || v instanceof PyFloat) {
    const x = typeof v === 'number' ? v : v.value;
    if (Number.isNaN(x)) pyRaise('ValueError', 'cannot convert float NaN to integer');
    if (!Number.isFinite(x)) pyRaise('OverflowError', 'cannot convert float infinity to integer');
    const r = ceil ? Math.ceil(x) : Math.floor(x);
    return Number.isSafeInteger(r) ? r + 0 : BigInt(r);
  }
  pyRaise('TypeError', `must be real number, not ${pyTypeName(v)}`);
}

/** Python `int(float)`: truncation toward zero, exact for huge floats. */
export function truncFloat(x: number): PyInt {
  if (Number.isNaN(x)) pyRaise('ValueError', 'cannot convert float NaN to integer');
  if (!Number.isFinite(x)) pyRaise('OverflowError', 'cannot convert float infinity to integer');
  const r = Math.trunc(x);
  return Number.isSafeInteger(r) ? r + 0 : BigInt(r);
}

/**
 * Exact comparison of two Python numbers: negative, zero or positive; NaN compares as
 * `undefined` (every ordering comparison with NaN is false).
 */
export function numCompare(a: Num, b: Num): number | undefined {
  const x = a instanceof PyFloat ? a.value : typeof a === 'boolean' ? (a ? 1 : 0) : a;
  const y = b instanceof PyFloat ? b.value : typeof b === 'boolean' ? (b ? 1 : 0) : b;
  if (typeof x === 'number' && typeof y === 'number') {
    if (Number.isNaN(x) || Number.isNaN(y)) return undefined;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  // One bigint, one number: compare exactly (a double may sit between two huge ints).
  const [bi, n, flip] = typeof x === 'bigint' ? [x, y as number, 1] : [y as bigint, x as number, -1];
  if (Number.isNaN(n)) return undefined;
  if (n === Infinity) return -flip;
  if (n === -Infinity) return flip;
  const fl = BigInt(Math.floor(n));
  let c: number;
  if (bi < fl) c = -1;
  else if (bi > fl) c = 1;
  else c = Number.isInteger(n) ? 0 : -1;
  return c * flip;
}
