/**
 * The parts of Python's `datetime` a file-name template uses: `str()`, `repr()`, the
 * `year … microsecond` attributes, `isoformat()`, `timestamp()` and `strftime()` (C-locale
 * directives). Works from the ISO text the event carried, so the wall-clock fields and the
 * UTC offset are the sender's.
 */
import type { PyDateTime } from '../heros/values.js';

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** Offset east of UTC in seconds, or null for a naive datetime. */
  offset: number | null;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/i;

const cache = new WeakMap<PyDateTime, Parts>();

/** The calendar fields of a datetime. */
export function datetimeParts(d: PyDateTime): Parts {
  const hit = cache.get(d);
  if (hit !== undefined) return hit;
  const m = ISO_RE.exec(d.iso);
  let p: Parts;
  if (m) {
    const frac = (m[7] ?? '').slice(0, 6).padEnd(6, '0');
    p = {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4] ?? 0),
      minute: Number(m[5] ?? 0),
      second: Number(m[6] ?? 0),
      microsecond: Number(frac),
      offset: parseOffset(m[8]),
    };
  } else {
    // Tag-1 datetimes (epoch seconds) decode to UTC in cbor2.
    const ms = Math.floor(d.epochSeconds * 1000);
    const date = new Date(ms);
    p = {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
      microsecond: Math.round((d.epochSeconds - Math.floor(d.epochSeconds)) * 1e6) % 1_000_000,
      offset: 0,
    };
  }
  cache.set(d, p);
  return p;
}

function parseOffset(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (text === 'Z' || text === 'z') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replaceAll(':', '');
  const h = Number(digits.slice(0, 2));
  const mi = Number(digits.slice(2, 4) || 0);
  const s = Number(digits.slice(4, 6) || 0);
  return sign * (h * 3600 + mi * 60 + s);
}

const p2 = (n: number): string => String(n).padStart(2, '0');

function offsetText(offset: number, colon: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = Math.floor(a / 3600);
  const mi = Math.floor((a % 3600) / 60);
  const s = a % 60;
  const sep = colon ? ':' : '';
  return `${sign}${p2(h)}${sep}${p2(mi)}${s ? `${sep}${p2(s)}` : ''}`;
}

/** Python `datetime.isoformat(sep)`. */
export function datetimeIso(d: PyDateTime, sep = 'T'): string {
  const p = datetimeParts(d);
  let s = `${String(p.year).padStart(4, '0')}-${p2(p.month)}-${p2(p.day)}${sep}${p2(p.hour)}:${p2(p.minute)}:${p2(p.second)}`;
  if (p.microsecond) s += `.${String(p.microsecond).padStart(6, '0')}`;
  if (p.offset !== null) s += offsetText(p.offset, true);
  return s;
}

/** Python `str(datetime)`. */
export function datetimeStr(d: PyDateTime): string {
  return datetimeIso(d, ' ');
}

/** Python `repr(datetime)`. */
export function datetimeRepr(d: PyDateTime): string {
  const p = datetimeParts(d);
  const fields = [p.year, p.month, p.day, p.hour, p.minute];
  if (p.second || p.microsecond) fields.push(p.second);
  if (p.microsecond) fields.push(p.microsecond);
  let s = `datetime.datetime(${fields.join(', ')}`;
  if (p.offset !== null) {
    s += p.offset === 0 ? ', tzinfo=datetime.timezone.utc' : `, tzinfo=datetime.timezone(datetime.timedelta(seconds=${p.offset}))`;
  }
  return `${s})`;
}

/** Python `datetime.timestamp()`; naive datetimes are taken as UTC (the daemon runs in UTC). */
export function datetimeTimestamp(d: PyDateTime): number {
  const p = datetimeParts(d);
  const ms = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return ms / 1000 - (p.offset ?? 0) + p.microsecond / 1e6;
}

const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

/** Python `datetime.strftime(fmt)` with the C locale's directives. */
export function datetimeStrftime(d: PyDateTime, fmt: string): string {
  const p = datetimeParts(d);
  const weekday = (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() + 6) % 7;
  const yday = Math.round((Date.UTC(p.year, p.month - 1, p.day) - Date.UTC(p.year, 0, 1)) / 86_400_000) + 1;
  const dayName = DAYS[weekday] as string;
  const monthName = MONTHS[p.month - 1] as string;
  const h12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c !== '%' || i + 1 >= fmt.length) {
      out += c;
      continue;
    }
    const k = fmt[++i];
    switch (k) {
      case 'Y': out += String(p.year); break;
      case 'y': out += p2(p.year % 100); break;
      case 'm': out += p2(p.month); break;
      case 'd': out += p2(p.day); break;
      case 'H': out += p2(p.hour); break;
      case 'I': out += p2(h12); break;
      case 'M': out += p2(p.minute); break;
      case 'S': out += p2(p.second); break;
      case 'f': out += String(p.microsecond).padStart(6, '0'); break;
      case 'p': out += p.hour < 12 ? 'AM' : 'PM'; break;
      case 'j': out += String(yday).padStart(3, '0'); break;
      case 'a': out += dayName.slice(0, 3); break;
      case 'A': out += dayName; break;
      case 'b': case 'h': out += monthName.slice(0, 3); break;
      case 'B': out += monthName; break;
      case 'w': out += String((weekday + 1) % 7); break;
      case 'u': out += String(weekday + 1); break;
      case 'z': out += p.offset === null ? '' : offsetText(p.offset, false); break;
      case 'Z': out += p.offset === null ? '' : p.offset === 0 ? 'UTC' : `UTC${offsetText(p.offset, true)}`; break;
      case 'F': out += `${String(p.year).padStart(4, '0')}-${p2(p.month)}-${p2(p.day)}`; break;
      case 'T': out += `${p2(p.hour)}:${p2(p.minute)}:${p2(p.second)}`; break;
      case 'x': out += `${p2(p.month)}/${p2(p.day)}/${p2(p.year % 100)}`; break;
      case 'X': out += `${p2(p.hour)}:${p2(p.minute)}:${p2(p.second)}`; break;
      case 'c':
        out += `${dayName.slice(0, 3)} ${monthName.slice(0, 3)} ${String(p.day).padStart(2, ' ')} ${p2(p.hour)}:${p2(p.minute)}:${p2(p.second)} ${p.year}`;
        break;
      case '%': out += '%'; break;
      default: out += `%${k}`;
    }
  }
  return out;
}
