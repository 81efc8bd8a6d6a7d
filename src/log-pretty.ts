/**
 * Human-readable log lines for a terminal, from the JSON lines pino writes:
 *
 *   14:45:01.123 INFO  cam: actor started classname=ArrayArchiver
 *   14:45:02.456 ERROR cam: actor failed to start; restarting later failures=1 err="share not mounted"
 *
 * Only for a person watching; journald and log shippers get the JSON (the default when stdout is
 * not a terminal), so nothing here has to be parseable.
 */
import { writeSync } from 'node:fs';

const LEVEL_COLOURS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
/** Fields shown in the head of the line, not repeated as key=value. */
const HEAD = new Set(['time', 'level', 'msg', 'name', 'actor', 'pid', 'hostname', 'err']);

/** Formatter settings. */
export interface PrettyOptions {
  /** ANSI colours for the level. @default false */
  colour?: boolean;
}

/**
 * Formats one pino JSON line (without or with its newline); returns the text with a newline.
 * A line that is not a JSON object is returned as it came.
 */
export function formatLogLine(line: string, options: PrettyOptions = {}): string {
  const trimmed = line.endsWith('\n') ? line.slice(0, -1) : line;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `${trimmed}\n`;
    record = parsed as Record<string, unknown>;
  } catch {
    return `${trimmed}\n`;
  }
  const level = typeof record.level === 'string' ? record.level : String(record.level ?? '');
  const label = level.toUpperCase().padEnd(5);
  const shownLevel = options.colour && LEVEL_COLOURS[level] ? `\x1b[${LEVEL_COLOURS[level]}m${label}\x1b[0m` : label;
  const time = typeof record.time === 'string' ? (/T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(record.time)?.[1] ?? record.time) : '';
  const who = typeof record.actor === 'string' ? `${record.actor}: ` : '';
  const msg = typeof record.msg === 'string' ? record.msg : '';
  const fields = Object.entries(record)
    .filter(([k]) => !HEAD.has(k))
    .map(([k, v]) => `${k}=${formatValue(v)}`);
  const err = record.err as { message?: unknown; stack?: unknown; code?: unknown } | undefined;
  if (err && typeof err === 'object') fields.push(`err=${formatValue(typeof err.message === 'string' ? err.message : err)}`);
  let out = [time, shownLevel, `${who}${msg}`, ...fields].filter((p) => p !== '').join(' ');
  // A stack is what one needs to read an internal error; indented so that it reads as one entry.
  if (err && typeof err.stack === 'string' && (level === 'error' || level === 'fatal')) {
    out += `\n${err.stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n')}`;
  }
  return `${out}\n`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** A pino destination that writes formatted lines synchronously to `fd`. */
export function prettyDestination(fd: number, options: PrettyOptions = {}): { write(chunk: string): void } {
  return {
    write(chunk: string): void {
      // pino hands over whole lines, one per call.
      writeSync(fd, formatLogLine(chunk, options));
    },
  };
}
