/**
 * Python's `repr(float)` / `str(float)`: the shortest digits that round-trip (as JavaScript
 * also picks), laid out the Python way — fixed notation for 1e-4 <= |x| < 1e16 with a
 * trailing `.0` when whole, otherwise `d.ddde±XX` with at least two exponent digits.
 *
 * JavaScript switches to exponent notation at other thresholds (1e21, 1e-7) and never writes
 * `.0`, so `String(x)` differs from Python for 1.0, 1e16, 1e-05 and others.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest round-trip digits.
  const exp = x.toExponential();
  const eAt = exp.indexOf('e');
  const mantissa = exp.slice(0, eAt);
  const exponent = Number(exp.slice(eAt + 1));
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = negative ? '-' : '';
  // Python's repr uses fixed notation when -4 <= exponent < 16.
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= digits.length - 1) {
      return `${sign}${digits}${'0'.repeat(exponent - digits.length + 1)}.0`;
    }
    if (exponent >= 0) {
      return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
    }
    return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  }
  return formatExponent(sign, digits, exponent);
}

function formatExponent(sign: string, digits: string, exponent: number): string {
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expSign = exponent < 0 ? '-' : '+';
  const expDigits = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${mant}e${expSign}${expDigits}`;
}
