/**
 * Logging: pino, JSON lines on stdout (journald keeps them as they are). One line per
 * lifecycle edge, retry, dead-letter and reconnect; never one per event.
 */
import { pino, type Logger } from 'pino';
import { prettyDestination } from './log-pretty.js';

export type { Logger } from 'pino';

/** Logger settings. */
export interface LoggerOptions {
  /** Minimum level. @default "info" */
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where lines go; a file descriptor or stream. @default 1 (stdout) */
  destination?: number | NodeJS.WritableStream;
  /** `json` lines, or `pretty` lines for a person at a terminal (file descriptors only). @default "json" */
  format?: 'json' | 'pretty';
  /** Extra fields on every line (e.g. `{instance: name}`). */
  base?: Record<string, unknown>;
}

/** Creates the daemon's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? 1;
  const dest =
    typeof destination !== 'number'
      ? destination
      : options.format === 'pretty'
        ? prettyDestination(destination, { colour: process.env.NO_COLOR === undefined })
        : pino.destination({ fd: destination, sync: true });
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'heros-archiver', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    dest,
  );
}

/** A logger that discards everything (embedding, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
