/**
 * Liveness for the systemd watchdog: the event loop keeps time and the bus is not stuck.
 *
 * A blocked loop never runs the watchdog timer at all; this check catches the cases where the
 * loop runs but the daemon cannot do its job: stalls longer than `maxEventLoopDelayMs` since
 * the previous check, or a bus that stays disconnected longer than `maxBusDownMs`. The latter
 * matters with the managed bridge: the daemon never restarts a bridge that died, so only a
 * restart of the whole service brings it back.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from './log.js';

/** What the check reads from the bus (a {@link BusMonitor} fits). */
export interface BusLiveness {
  readonly connected: boolean;
  downForMs(): number;
}

/** Settings of {@link createLivenessCheck}. */
export interface LivenessOptions {
  /** The bus to watch; without it only the event loop is checked. */
  bus?: BusLiveness;
  /** Longest event-loop stall allowed between two checks, ms. @default 10000 */
  maxEventLoopDelayMs?: number;
  /**
   * Longest bus outage allowed, ms. `Infinity` disables this part — sensible with an
   * operator-run bridge (`--zenoh`), which a restart of this daemon cannot bring back.
   * @default 120000
   */
  maxBusDownMs?: number;
  /** Where the reason of a failing check is logged (once per failing streak). @default none */
  logger?: Pick<Logger, 'warn'>;
}

/** The outcome of one check. */
export interface LivenessReport {
  ok: boolean;
  /** Longest event-loop delay since the previous check, ms. */
  eventLoopDelayMaxMs: number;
  /** How long the bus has been down, ms (0 when connected or not watched). */
  busDownMs: number;
  /** Why it failed; empty when ok. */
  reasons: string[];
}

/** A liveness check; call `check()` from the watchdog loop. */
export interface LivenessCheck {
  /** Evaluates and starts a new event-loop measurement window. */
  check(): boolean;
  /** The outcome of the last `check()`. */
  readonly last: LivenessReport | undefined;
  /** Stops measuring the event loop. Idempotent. */
  close(): void;
}

/** Creates a liveness check measuring the event loop from now on. */
export function createLivenessCheck(options: LivenessOptions = {}): LivenessCheck {
  const maxDelayMs = options.maxEventLoopDelayMs ?? 10_000;
  const maxBusDownMs = options.maxBusDownMs ?? 120_000;
  // 20 ms resolution: the bound is seconds, and a coarse timer costs nothing measurable.
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let last: LivenessReport | undefined;
  let failing = false;
  return {
    check(): boolean {
      // Samples include the 20 ms sampling period; an empty histogram reports max 0.
      const eventLoopDelayMaxMs = histogram.max / 1e6;
      histogram.reset();
      const busDownMs = options.bus?.downForMs() ?? 0;
      const reasons: string[] = [];
      if (eventLoopDelayMaxMs > maxDelayMs) reasons.push(`the event loop stalled for ${Math.round(eventLoopDelayMaxMs)} ms (limit ${maxDelayMs} ms)`);
      if (options.bus && !options.bus.connected && busDownMs > maxBusDownMs) reasons.push(`the bus has been down for ${Math.round(busDownMs / 1000)} s (limit ${Math.round(maxBusDownMs / 1000)} s)`);
      last = { ok: reasons.length === 0, eventLoopDelayMaxMs, busDownMs, reasons };
      if (!last.ok && !failing) options.logger?.warn({ reasons, eventLoopDelayMaxMs, busDownMs }, `liveness check failed: ${reasons.join('; ')}`);
      failing = !last.ok;
      return last.ok;
    },
    get last() {
      return last;
    },
    close(): void {
      histogram.disable();
    },
  };
}
