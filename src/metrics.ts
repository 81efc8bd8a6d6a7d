/**
 * Prometheus metrics on a registry of our own (never prom-client's global one, so that an
 * embedding application's metrics and ours do not collide).
 *
 *   Boss.status() ─┐  read at scrape time by collect() callbacks:
 *   BusMonitor ────┴─► counters, gauges ── no cost on the event path
 *   archiver ─► recordWrite(), observeStore() ─► written bytes, store latency (hot path: O(1))
 *
 * Counters fed from snapshots restart from 0 when an actor is re-created; Prometheus's
 * `rate()`/`increase()` treat that as a counter reset.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ActorState, ActorStatus } from './boss.js';
import type { BusStatus } from './bus/bus-monitor.js';

/** Where the scraped values come from; getters, so that they can be wired before the Boss exists. */
export interface MetricsOptions {
  /** The actors, as `Boss.status()` returns them; `[]` before the Boss starts. */
  actors: () => readonly ActorStatus[];
  /** The bus, as `BusMonitor.status()` returns it; `undefined` before it is open. */
  bus?: () => BusStatus | undefined;
  /** Backpressure, as `Boss.receiveStatus()` returns it; `undefined` before the Boss exists. */
  receive?: () => { paused: boolean; pausedSeconds: number } | undefined;
  /**
   * The in-process Zenoh session's receive spill file (`NativeZenohBus.spilledBytes` and
   * `spilledTotal`); absent for other buses, which then export no spill series.
   */
  spill?: () => { bytes: number; total: number } | undefined;
  /** Also export prom-client's process and Node.js metrics (`process_*`, `nodejs_*`). @default true */
  defaultMetrics?: boolean;
}

/** Event latency buckets, seconds: fine below 10 ms, where a camera's frame period lies. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Store latency buckets, seconds: a small file on a local disk to a big one on a slow share. */
const STORE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

// A Record keyed by ActorState: adding a state to the Boss fails to compile here until listed.
const ACTOR_STATES: Record<ActorState, null> = { starting: null, running: null, restarting: null, failed: null, stopping: null, stopped: null };

/**
 * A stats field read by name. The spool fields (`refused`, `spooled`, `spoolBytes`) are read
 * only where an actor reports them, so that archivers without a spool export no such series.
 */
function statValue(a: ActorStatus, key: string): number | undefined {
  const v = (a.stats as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The daemon's metrics. */
export class ArchiverMetrics {
  /** The registry every metric is on; serve it with `metrics()`. */
  readonly registry: Registry;
  readonly #actors: () => readonly ActorStatus[];
  readonly #bus: () => BusStatus | undefined;
  readonly #written: Counter<'actor'>;
  readonly #storeSeconds: Histogram<'actor'>;
  readonly #latencySeconds: Histogram<'actor'>;
  readonly #spoolBytes = new Map<string, number>();
  /** One snapshot per scrape, shared by every collect() of that scrape. */
  #snapshot: { actors: readonly ActorStatus[]; bus: BusStatus | undefined } | undefined;

  constructor(options: MetricsOptions) {
    this.#actors = options.actors;
    this.#bus = options.bus ?? (() => undefined);
    const registry = new Registry();
    this.registry = registry;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

    const snapshot = (): { actors: readonly ActorStatus[]; bus: BusStatus | undefined } => this.#snapshot ?? { actors: this.#actors(), bus: this.#bus() };
    const fromStats = (name: string, help: string, key: string): void => {
      new Counter({
        name,
        help,
        labelNames: ['actor'] as const,
        registers: [registry],
        collect() {
          this.reset();
          for (const a of snapshot().actors) {
            const v = statValue(a, key);
            if (v !== undefined && v >= 0) this.inc({ actor: a.id }, v);
          }
        },
      });
    };
    fromStats('heros_archiver_events_received_total', 'Events received by the actor, including malformed ones.', 'received');
    fromStats('heros_archiver_events_durable_total', 'Events written to the disk spool and synced: a crash cannot lose them.', 'durable');
    fromStats('heros_archiver_events_stored_total', 'Events stored to their file(s).', 'stored');
    fromStats('heros_archiver_store_retries_total', 'Store attempts retried after a failure.', 'retried');
    fromStats('heros_archiver_events_dead_lettered_total', 'Events written to the dead-letter folder instead of their file.', 'deadLettered');
    fromStats('heros_archiver_storage_faults_total', 'Store attempts that failed on a storage fault (disk full, read-only, I/O error).', 'storageFaults');
    fromStats('heros_archiver_events_refused_total', 'Events refused because the disk spool was full: the only events not kept.', 'refused');

    new Gauge({
      name: 'heros_archiver_events_pending',
      help: 'Events accepted and not yet stored or dead-lettered (queued, storing or waiting to retry).',
      labelNames: ['actor'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const a of snapshot().actors) {
          const v = statValue(a, 'pending');
          if (v !== undefined) this.set({ actor: a.id }, v);
        }
      },
    });
    new Gauge({
      name: 'heros_archiver_events_spooled',
      help: 'Events waiting in the disk spool (part of the pending ones).',
      labelNames: ['actor'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const a of snapshot().actors) {
          const v = statValue(a, 'spooled');
          if (v !== undefined) this.set({ actor: a.id }, v);
        }
      },
    });
    const spoolBytes = this.#spoolBytes;
    new Gauge({
      name: 'heros_archiver_spool_bytes',
      help: 'Bytes of events spilled to the disk spool and not yet stored.',
      labelNames: ['actor'] as const,
      registers: [registry],
      collect() {
        this.reset();
        // The actor's own figure when it reports one; else what setSpoolBytes() was told; else 0.
        for (const a of snapshot().actors) this.set({ actor: a.id }, statValue(a, 'spoolBytes') ?? spoolBytes.get(a.id) ?? 0);
      },
    });
    new Gauge({
      name: 'heros_archiver_actor_state',
      help: 'Actor state: 1 for the state the actor is in, 0 for the others.',
      labelNames: ['actor', 'state'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const a of snapshot().actors) {
          for (const state of Object.keys(ACTOR_STATES)) this.set({ actor: a.id, state }, a.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'heros_archiver_actor_healthy',
      help: 'Whether the actor can store (0 during a storage fault).',
      labelNames: ['actor'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const a of snapshot().actors) this.set({ actor: a.id }, a.health === undefined || a.health.healthy ? 1 : 0);
      },
    });

    this.#written = new Counter({
      name: 'heros_archiver_written_bytes_total',
      help: 'Bytes written to archive files.',
      labelNames: ['actor'] as const,
      registers: [registry],
    });
    this.#storeSeconds = new Histogram({
      name: 'heros_archiver_store_duration_seconds',
      help: 'Time of one successful store (render, write, rename), seconds.',
      labelNames: ['actor'] as const,
      buckets: STORE_BUCKETS,
      registers: [registry],
    });

    this.#latencySeconds = new Histogram({
      name: 'heros_archiver_event_latency_seconds',
      help: 'Time from an event\'s acceptance by the actor to its successful store (queue, spool, retries and store), seconds.',
      labelNames: ['actor'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });

    new Gauge({
      name: 'heros_archiver_bus_connected',
      help: 'Whether the bus is connected (the in-process Zenoh session: while it is open).',
      registers: [registry],
      collect() {
        const bus = snapshot().bus;
        this.set(bus?.connected ? 1 : 0);
      },
    });
    new Counter({
      name: 'heros_archiver_bus_reconnects_total',
      help: 'Times the bus connection was lost and re-established.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(snapshot().bus?.reconnects ?? 0);
      },
    });
    const receive = options.receive ?? (() => undefined);
    new Gauge({
      name: 'heros_archiver_receive_paused',
      help: 'Whether reading from the bus is paused because an actor\'s disk spool is a memory budget behind.',
      registers: [registry],
      collect() {
        this.set(receive()?.paused ? 1 : 0);
      },
    });
    new Counter({
      name: 'heros_archiver_receive_paused_seconds_total',
      help: 'Seconds reading from the bus was paused for backpressure (events waited in the receive spill file or the bridge meanwhile).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(receive()?.pausedSeconds ?? 0);
      },
    });
    const spill = options.spill;
    if (spill) {
      new Gauge({
        name: 'heros_archiver_receive_spill_bytes',
        help: 'Bytes of received events waiting in the receive spill file of the in-process Zenoh session.',
        registers: [registry],
        collect() {
          this.set(spill()?.bytes ?? 0);
        },
      });
      new Counter({
        name: 'heros_archiver_receive_spilled_total',
        help: 'Received events that went through the receive spill file (the daemon\'s thread was behind, or intake was paused).',
        registers: [registry],
        collect() {
          this.reset();
          this.inc(spill()?.total ?? 0);
        },
      });
    }
    new Counter({
      name: 'heros_archiver_bus_gap_seconds_total',
      help: 'Seconds the bus was disconnected, summed over reconnections (events published meanwhile were not received).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(snapshot().bus?.gapSeconds ?? 0);
      },
    });
  }

  /** The `Content-Type` of {@link ArchiverMetrics.metrics}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric, from one snapshot of actors and bus. */
  async metrics(): Promise<string> {
    this.#snapshot = { actors: this.#actors(), bus: this.#bus() };
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  /** Counts `bytes` written to an archive file by `actor`. Never throws. */
  recordWrite(actor: string, bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.#written.inc({ actor }, bytes);
  }

  /** Records how long one successful store of `actor` took. Never throws. */
  observeStore(actor: string, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.#storeSeconds.observe({ actor }, seconds);
  }

  /** Records that an event of `actor` was stored `seconds` after the actor accepted it. Never throws. */
  observeEventLatency(actor: string, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.#latencySeconds.observe({ actor }, seconds);
  }

  /** Sets the bytes `actor` holds in the disk spool, for actors whose stats do not report `spoolBytes`. Never throws. */
  setSpoolBytes(actor: string, bytes: number): void {
    if (Number.isFinite(bytes) && bytes >= 0) this.#spoolBytes.set(actor, bytes);
  }
}

/** Creates the daemon's metrics on a fresh registry. */
export function createMetrics(options: MetricsOptions): ArchiverMetrics {
  return new ArchiverMetrics(options);
}
