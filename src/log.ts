/**
 * Logging: pino, JSON lines on stdout (journald keeps them as they are). One line per
 * lifecycle edge, retry, dead-letter and reconnect; never one per event.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Logger settings. */
export interface LoggerOptions {
  /** Minimum level. @default "info" */
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Where lines go; a file descriptor or stream. @default 1 (stdout) */
  destination?: number | NodeJS.WritableStream;
}

/** Creates the daemon's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? 1;
  const dest = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'heros-archiver' },
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
