/**
 * The logging surface the bus and the bridge launcher need: a subset of pino's `Logger`, so
 * the daemon passes its pino child logger and tests pass a recorder.
 */

/** A pino-like logger: `logger.warn({ attempt }, 'message')`. */
export interface BusLogger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/** Discards everything; the default when no logger is given. */
export const silentBusLogger: BusLogger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
