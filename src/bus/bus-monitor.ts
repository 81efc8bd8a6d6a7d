/**
 * BusMonitor: what readiness, metrics and the watchdog need to know about a bus — connected
 * or not, since when, how often it reconnected and how long the gaps were — from the bus's
 * `onEvent` stream, so that it works for any {@link Bus}.
 */
import type { Bus, BusEvent } from './bus.js';

/** The bus as `/ready` and the metrics report it. */
export interface BusStatus {
  /** `connected`, `disconnected`, `closed`, or the finer state a ZenohBus reports (`reconnecting`). */
  state: string;
  connected: boolean;
  /** Reconnections since the monitor was attached. */
  reconnects: number;
  /** Sum of the gaps of those reconnections, seconds. */
  gapSeconds: number;
  /** When the current outage began (ISO 8601), while disconnected. */
  downSince?: string;
}

/** Settings of a {@link BusMonitor}. */
export interface BusMonitorOptions {
  /**
   * Whether the bus is connected when the monitor is attached. `openZenohBus` resolves only
   * once connected, and a MemoryBus always is. @default true
   */
  connected?: boolean;
  /** Clock, ms. @default Date.now */
  now?: () => number;
}

/** Follows a bus's state changes. */
export class BusMonitor {
  readonly #bus: Bus;
  readonly #now: () => number;
  readonly #off: () => void;
  #connected: boolean;
  #closed = false;
  #downSince: number | undefined;
  #reconnects = 0;
  #gapMs = 0;

  constructor(bus: Bus, options: BusMonitorOptions = {}) {
    this.#bus = bus;
    this.#now = options.now ?? Date.now;
    this.#connected = options.connected ?? true;
    this.#downSince = this.#connected ? undefined : this.#now();
    this.#off = bus.onEvent((event) => this.#onEvent(event));
  }

  /** Whether the bus is connected now. */
  get connected(): boolean {
    const own = ownState(this.#bus);
    // A ZenohBus knows its state first-hand (e.g. `closed`, which it emits no event for).
    return own === undefined ? this.#connected && !this.#closed : own === 'connected';
  }

  /** How long the bus has been disconnected, ms; 0 while connected. */
  downForMs(): number {
    if (this.connected) return 0;
    return this.#downSince === undefined ? 0 : Math.max(0, this.#now() - this.#downSince);
  }

  /** A snapshot for `/ready` and the metrics. */
  status(): BusStatus {
    const connected = this.connected;
    const state = ownState(this.#bus) ?? (this.#closed ? 'closed' : connected ? 'connected' : 'disconnected');
    return {
      state,
      connected,
      reconnects: this.#reconnects,
      gapSeconds: this.#gapMs / 1000,
      ...(!connected && this.#downSince !== undefined ? { downSince: new Date(this.#downSince).toISOString() } : {}),
    };
  }

  /** Stops following the bus; the last counts stay readable. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#off();
  }

  #onEvent(event: BusEvent): void {
    switch (event.type) {
      case 'connected':
        this.#connected = true;
        this.#downSince = undefined;
        break;
      case 'disconnected':
        this.#connected = false;
        this.#downSince ??= this.#now();
        break;
      case 'reconnected':
        this.#connected = true;
        this.#downSince = undefined;
        this.#reconnects++;
        this.#gapMs += Math.max(0, event.gapMs);
        break;
    }
  }
}

/** The `state` getter of a ZenohBus, read by duck typing: `openZenohBus` returns a plain `Bus`. */
function ownState(bus: Bus): string | undefined {
  const state = (bus as { state?: unknown }).state;
  return typeof state === 'string' ? state : undefined;
}
