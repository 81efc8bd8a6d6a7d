/**
 * Python datetimes on the wire (CBOR tags 0 and 1), read and written exactly as cbor2 does:
 *
 *   tag 0 "2024-01-02T03:04:05.5+02:00" ──┐
 *                                          ├──▶ PyDateTime(iso, epochSeconds) ──▶ tag 0 text
 *   tag 1 1704164645.5 ────────────────────┘     (`isoformat().replace("+00:00", "Z")`)
 *
 * cbor2 reads tag 0 with `datetime.fromisoformat` and insists on a UTC offset, reads tag 1 with
 * `datetime.fromtimestamp(value, timezone.utc)`, and always writes tag 0. Content it would refuse
 * yields `undefined` here, and the caller keeps the tag as it came.
 */

import { PyDateTime, PyFloat, type PyValue } from './values.js';

/** A datetime broken into fields; `offset` and `offsetMicro` give the UTC offset. */
interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  micro: number;
  /** Whole seconds of the UTC offset (negative west of Greenwich). */
  offset: number;
  /** Microseconds of the UTC offset, same sign as `offset`. */
  offsetMicro: number;
}

const MIN_EPOCH = -62135596800; // 0001-01-01T00:00:00Z
const MAX_EPOCH = 253402300799; // 9999-12-31T23:59:59Z

// What cbor2 accepts: Python's datetime.fromisoformat (extended format) with a UTC offset.
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d*))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6}))?)?)?)$/;

/** Parses RFC 3339 / ISO 8601 text with a UTC offset; undefined when it is not one. */
function parseIsoDateTime(text: string): DateTimeFields | undefined {
  const m = ISO_DATETIME.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // Python keeps microseconds and drops further digits.
  const micro = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  let offsetMicro = 0;
  if (m[8] === undefined) {
    const sign = m[9] === '-' ? -1 : 1;
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    const os = m[12] === undefined ? 0 : Number(m[12]);
    if (oh > 23 || om > 59 || os > 59) return undefined;
    offset = sign * (oh * 3600 + om * 60 + os);
    offsetMicro = m[13] ? sign * Number(m[13].padEnd(6, '0')) : 0;
  }
  return { year, month, day, hour, minute, second, micro, offset, offsetMicro };
}

/** Tag 0 content → PyDateTime keeping the text as sent; undefined where cbor2 would refuse it. */
export function dateTimeFromText(text: string): PyDateTime | undefined {
  const f = parseIsoDateTime(text);
  if (f === undefined) return undefined;
  const seconds =
    daysFromCivil(f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.minute * 60 + f.second - f.offset;
  return new PyDateTime(text, epochFrom(seconds, f.micro - f.offsetMicro));
}

/** Seconds plus microseconds as a double, rounded once (as Python's `timestamp()`) when exact. */
function epochFrom(seconds: number, micro: number): number {
  const total = seconds * 1e6 + micro;
  return Number.isSafeInteger(total) ? total / 1e6 : seconds + micro / 1e6;
}

/** Tag 1 as cbor2 reads it: `datetime.fromtimestamp(value, timezone.utc)`. */
export function dateTimeFromEpoch(content: PyValue): PyDateTime | undefined {
  let value: number;
  if (typeof content === 'number') value = content;
  else if (content instanceof PyFloat) value = content.value;
  else return undefined;
  const fields = utcFieldsFromEpoch(value);
  if (fields === undefined) return undefined;
  return new PyDateTime(formatIsoLikeCbor2(fields), value);
}

/**
 * UTC fields of an epoch time, rounding to microseconds half-to-even as CPython's
 * `fromtimestamp` does; undefined outside Python's year range 1..9999.
 */
function utcFieldsFromEpoch(value: number): DateTimeFields | undefined {
  if (!Number.isFinite(value)) return undefined;
  let whole = Math.trunc(value);
  let micro = roundHalfEven((value - whole) * 1e6);
  if (micro >= 1e6) {
    micro -= 1e6;
    whole += 1;
  } else if (micro < 0) {
    micro += 1e6;
    whole -= 1;
  }
  if (whole < MIN_EPOCH || whole > MAX_EPOCH) return undefined;
  const days = Math.floor(whole / 86400);
  let rest = whole - days * 86400;
  const { year, month, day } = civilFromDays(days);
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  return { year, month, day, hour, minute, second: rest - minute * 60, micro, offset: 0, offsetMicro: 0 };
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The text cbor2 writes for an aware datetime: `value.isoformat().replace("+00:00", "Z")`.
 */
function formatIsoLikeCbor2(f: DateTimeFields): string {
  let s = `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}T${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}`;
  if (f.micro !== 0) s += `.${pad(f.micro, 6)}`;
  const negative = f.offset < 0 || f.offsetMicro < 0;
  const total = Math.abs(f.offset);
  const oh = Math.floor(total / 3600);
  const om = Math.floor((total % 3600) / 60);
  const os = total % 60;
  let tz = `${negative ? '-' : '+'}${pad(oh, 2)}:${pad(om, 2)}`;
  if (os !== 0 || f.offsetMicro !== 0) tz += `:${pad(os, 2)}`;
  if (f.offsetMicro !== 0) tz += `.${pad(Math.abs(f.offsetMicro), 6)}`;
  return (s + tz).replace('+00:00', 'Z');
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Proleptic Gregorian day arithmetic (H. Hinnant's algorithms); JavaScript's Date maps the
// years 0..99 to 1900..1999 and cannot be trusted for Python's year range.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** The text cbor2 would write for this datetime; falls back to the epoch when `iso` is odd. */
export function dateTimeText(d: PyDateTime): string {
  const fields = parseIsoDateTime(d.iso) ?? utcFieldsFromEpoch(d.epochSeconds);
  if (fields === undefined) throw new TypeError(`datetime ${JSON.stringify(d.iso)} is outside Python's range`);
  return formatIsoLikeCbor2(fields);
}
