/**
 * DataArchiver: an EventObserver that stores each event's payload, the TypeScript counterpart
 * of herostools' `HERODataArchiver`.
 *
 *   sample ─► decode ─► receive(): check [payload, metadata], merge default_metadata
 *                          │ (event metadata wins)
 *                          ▼
 *                   queue (p-queue, `concurrency` stores at a time)
 *                          │ store(source, payload, metadata, {signal, attempt})
 *                          ▼
 *            ok ─► counted as stored
 *            retryable error ─► wait backoff(attempt) ─► queue again (at most max_retries)
 *            unrecoverable error, or retries exhausted ─► dead-letter folder (never dropped)
 *
 * Where herostools re-queues at once and finally drops the event, and loses its queue on
 * teardown, this class backs off with jitter, dead-letters, and drains on stop.
 */
import PQueue from 'p-queue';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { ArchiverError, errorCode, isRetryable } from './errors.js';
import { decodeHeros, encodeHeros, isPlainObjectKey } from './heros/cbor.js';
import { Spool, type SpoolRecordId } from './storage/spool.js';
import type { PyValue } from './heros/values.js';
import { EventObserver, type ActorContext, type EventObserverOptions, type SampleInfo } from './observer.js';
import type { OptionsSchema } from './options.js';
import { pyJsonDumps } from './formats/python-json.js';
import { resolveArchivePath } from './storage/archive-path.js';
import path from 'node:path';

/** Event metadata after merging `default_metadata`. Keys are strings. */
export type Metadata = { [key: string]: PyValue };

/** Options of every DataArchiver (herostools' names, plus ours for retries and timeouts). */
export interface DataArchiverOptions extends EventObserverOptions {
  /** Metadata every event starts from; the event's own metadata wins. @default {} */
  readonly default_metadata: Metadata | ReadonlyMap<string, PyValue>;
  /** Retries after the first failed store before the event is dead-lettered. @default 5 */
  readonly max_retries: number;
  /** Delay before the first retry, ms; doubles per retry, with jitter. @default 200 */
  readonly retry_delay_ms: number;
  /** Longest delay between retries, ms. @default 30000 */
  readonly retry_max_delay_ms: number;
  /** A store that has not finished after this many ms is aborted and retried. @default 60000 */
  readonly store_timeout_ms: number;
  /** How many stores run at once. @default 1 (herostools' single worker; keeps file order) */
  readonly concurrency: number;
  /** Folder rendered paths must stay inside. @default the daemon's `--root` */
  readonly root?: string;
  /** `spool` (crash-safe) or `memory` (faster; loses the in-memory queue on a crash). @default "spool" */
  readonly durability: 'spool' | 'memory';
  /** Events held in memory before spilling to the spool. @default 10000 */
  readonly memory_budget_events: number;
  /** Event bytes held in memory before spilling to the spool. @default 67108864 (64 MiB) */
  readonly memory_budget_bytes: number;
  /** Disk the spool may use. @default 10737418240 (10 GiB) */
  readonly spool_quota_bytes: number;
  /** Spool group-commit interval, ms. @default 10 */
  readonly spool_sync_interval_ms: number;
}

/** Health of an archiver, for status and readiness. */
export interface ArchiverHealth {
  healthy: boolean;
  /** The storage fault that makes it unhealthy. */
  fault?: { errno: string; message: string; since: string };
}

/** errno codes that mean "the storage is failing", not "this event is bad". */
const STORAGE_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EBUSY', 'EMFILE', 'ENFILE', 'EAGAIN', 'ESTALE', 'ETIMEDOUT']);
const FAULT_LOG_INTERVAL_MS = 30_000;
/** An actor that refused an event stays unhealthy this long. */
const REFUSAL_UNHEALTHY_MS = 60_000;

function storageFault(err: unknown): string | undefined {
  let e: unknown = err;
  // Look through wrappers (an archiver may wrap the fs error as `cause`).
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && STORAGE_FAULTS.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What `store` gets besides the event. */
export interface StoreContext {
  /** Aborted when the store times out or the actor is stopped for good. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** The Zenoh key the event arrived on (absent for events given to `feed`). */
  readonly key: string | undefined;
  /** Receive time, ms since the epoch. */
  readonly receivedAt: number;
  /**
   * The merged metadata in Python's key order (`default_metadata | metadata`), for writers that
   * serialise it (JsonArchiver's `merge_metadata`): a plain object reorders keys like `"10"`.
   */
  readonly metadataInOrder: ReadonlyMap<string, PyValue>;
}

/** One event of a {@link DataArchiver.storeBatch} call: what `store` gets, without the signal. */
export interface BatchEvent {
  readonly source: string;
  readonly payload: PyValue;
  /** `default_metadata` merged with the event's metadata (a fresh object per event). */
  readonly metadata: Metadata;
  /** As in {@link StoreContext}. */
  readonly attempt: number;
  readonly key: string | undefined;
  readonly receivedAt: number;
  readonly metadataInOrder: ReadonlyMap<string, PyValue>;
}

/** Counters of one archiver. */
export interface ArchiverStats {
  received: number;
  stored: number;
  retried: number;
  deadLettered: number;
  /** Store attempts that failed on a storage fault (disk full, read-only, I/O error). */
  storageFaults: number;
  /** Events refused because the spool was full (the only way an event is not kept). */
  refused: number;
  /**
   * Events whose spool record is on the device (its group commit done). `received` counts an
   * event on arrival, before its spool write, which lags far behind `spool_sync_interval_ms`
   * while a burst keeps the process busy; with durability "spool" this is what a crash cannot lose.
   */
  durable: number;
  /** Events accepted and not yet stored or dead-lettered (in memory or in the spool). */
  pending: number;
  /** Events waiting in the disk spool (not yet in memory). */
  spooled: number;
  /** Bytes of unstored events in the spool. */
  spoolBytes: number;
}

/** A store running now: when it times out, and how its attempt is failed then. */
interface RunningStore {
  readonly deadline: number;
  readonly reject: (err: unknown) => void;
}

/**
 * How often running stores are checked for their timeout: an eighth of it, between 5 ms and
 * 1 s, so a store is aborted at most that long after its deadline.
 */
function sweepIntervalMs(timeoutMs: number): number {
  return Math.min(1000, Math.max(5, Math.floor(timeoutMs / 8)));
}

/**
 * Merged metadata in Python's key order: a plain object when it keeps that order (the usual
 * case), else a Map (see DataArchiver's #merged).
 */
type OrderedMetadata = Metadata | ReadonlyMap<string, PyValue>;

/** A fresh plain object of the merged metadata, as `store` gets it. */
function metadataObject(m: OrderedMetadata): Metadata {
  return m instanceof Map ? (Object.fromEntries(m) as Metadata) : { ...(m as Metadata) };
}

/** The merged metadata as a Map in Python's key order. */
function metadataMap(m: OrderedMetadata): ReadonlyMap<string, PyValue> {
  return m instanceof Map ? m : new Map(Object.entries(m as Metadata));
}

/** The merged metadata of a queued event, as the Map in Python's key order made only when read. */
class InOrder {
  readonly #ordered: OrderedMetadata;
  #map: ReadonlyMap<string, PyValue> | undefined;
  constructor(ordered: OrderedMetadata) {
    this.#ordered = ordered;
  }
  get metadataInOrder(): ReadonlyMap<string, PyValue> {
    return (this.#map ??= metadataMap(this.#ordered));
  }
}

/** What one store call gets. */
class QueuedContext extends InOrder implements StoreContext {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly key: string | undefined;
  readonly receivedAt: number;
  constructor(signal: AbortSignal, item: Item) {
    super(item.metadata);
    this.signal = signal;
    this.attempt = item.attempts;
    this.key = item.key;
    this.receivedAt = item.receivedAt;
  }
}

/** One event of a storeBatch call. */
class QueuedEvent extends InOrder implements BatchEvent {
  readonly source: string;
  readonly payload: PyValue;
  readonly metadata: Metadata;
  readonly attempt: number;
  readonly key: string | undefined;
  readonly receivedAt: number;
  constructor(item: Item) {
    super(item.metadata);
    this.source = item.source;
    this.payload = item.payload;
    this.metadata = metadataObject(item.metadata);
    this.attempt = item.attempts;
    this.key = item.key;
    this.receivedAt = item.receivedAt;
  }
}

interface Item {
  readonly source: string;
  readonly payload: PyValue;
  /** Merged metadata in Python's key order. */
  readonly metadata: OrderedMetadata;
  /** The event as received, for dead-letter records. */
  readonly event: PyValue;
  readonly raw: Uint8Array | undefined;
  /** `raw`'s buffer is ours alone: released as soon as the event is stored and spooled. */
  readonly rawOwned: boolean;
  readonly key: string | undefined;
  readonly receivedAt: number;
  /** When the actor accepted the event, on the `performance.now()` clock (for its latency). */
  readonly acceptedAt: number;
  attempts: number;
  /** Attempts that failed on a storage fault; they do not count toward max_retries. */
  faultRetries: number;
  retryTimer: NodeJS.Timeout | undefined;
  done: boolean;
  /** Bytes this item holds in memory (counted against the memory budget). */
  memBytes: number;
  /** Its spool record, once durable (durability "spool", or read back from the spool). */
  spoolId: SpoolRecordId | undefined;
  /** True while its spool append is in flight. */
  spooling: boolean;
  /** Lets go of the received sample's place in the bus's receive budget (see `Sample.hold`). */
  letGo: (() => void) | undefined;
}

/** Base class of archivers: implement {@link DataArchiver.store}. */
export abstract class DataArchiver<O extends DataArchiverOptions = DataArchiverOptions> extends EventObserver<O> {
  static override readonly optionsSchema: OptionsSchema = {
    ...EventObserver.optionsSchema,
    default_metadata: { type: 'object', default: {}, doc: 'Metadata every event starts from; keys the event sends win.' },
    max_retries: { type: 'integer', default: 5, min: 0, doc: 'Retries after a failed store before the event goes to the dead-letter folder.' },
    retry_delay_ms: { type: 'integer', default: DEFAULT_BACKOFF.initialMs, min: 0, doc: 'Delay before the first retry (ms); doubles per retry, with jitter.' },
    retry_max_delay_ms: { type: 'integer', default: DEFAULT_BACKOFF.maxMs, min: 0, doc: 'Longest delay between two retries (ms).' },
    store_timeout_ms: { type: 'integer', default: 60_000, min: 1, doc: 'A store still running after this many ms is aborted and retried (checked every eighth of it, 5 ms to 1 s).' },
    concurrency: { type: 'integer', default: 1, min: 1, max: 64, doc: 'Stores running at once. 1 keeps the order of files written to the same name.' },
    root: { type: 'string', nonEmpty: true, doc: "Folder that rendered paths must stay inside. Default: the daemon's `--root`." },
    durability: { type: 'string', enum: ['spool', 'memory'], default: 'spool', doc: '`spool`: every event is in the disk spool (group-committed with fdatasync) before it counts as received, so a crash loses nothing accepted; `memory`: events wait in memory (the spool takes only the overflow), faster, but a crash loses the in-memory queue.' },
    memory_budget_events: { type: 'integer', default: 10_000, min: 1, doc: 'Events held in memory; beyond this (or the byte budget) events spill to the disk spool and are stored from there in order.' },
    memory_budget_bytes: { type: 'integer', default: 64 * 1024 * 1024, min: 1024, doc: 'Event bytes held in memory (see `memory_budget_events`).' },
    spool_quota_bytes: { type: 'integer', default: 10 * 1024 ** 3, min: 1024 * 1024, doc: 'Disk the spool may use; when it is full, new events are refused (counted, logged, unhealthy).' },
    spool_sync_interval_ms: { type: 'integer', default: 10, min: 0, max: 10_000, doc: 'Group commit interval of the spool: one fdatasync covers every event of the interval.' },
  };

  /** Runs the workers, at most `concurrency` at once. */
  readonly #queue: PQueue;
  /** Items waiting for a worker, in order (from `#readyHead` on). */
  #ready: Item[] = [];
  #readyHead = 0;
  /** Workers added to the queue and not yet finished. */
  #workers = 0;
  /** Events handed to storeBatch and not yet settled (batch stores only). */
  #inFlight = 0;
  /** A dispatch of ready events to storeBatch is due (batch stores only). */
  #dispatchDue = false;
  readonly #pending = new Set<Item>();
  readonly #backoff: BackoffOptions;
  readonly #abort = new AbortController();
  /** Controllers of the stores running now; aborted together when the actor stops for good.
   *  (One listener per store on the shared signal would cost O(n) per add with many in flight.) */
  readonly #running = new Map<AbortController, RunningStore>();
  /** Times out running stores (one timer for all of them rather than one per store). */
  #sweeper: NodeJS.Timeout | undefined;
  readonly #stats: ArchiverStats = { received: 0, stored: 0, retried: 0, deadLettered: 0, storageFaults: 0, refused: 0, durable: 0, pending: 0, spooled: 0, spoolBytes: 0 };
  #spool: Spool | undefined;
  #memItems = 0;
  #memBytes = 0;
  /** Records in the spool that the pump has not read yet (overflow, or left by a crash). */
  #spooledWaiting = 0;
  #pumpWake: (() => void) | undefined;
  #pump: Promise<void> | undefined;
  #pumpStopped = false;
  #lastRefusalLog = 0;
  #lastRefusalAt = 0;
  #fault: { code: string; message: string; since: number; lastLog: number; events: number } | undefined;
  readonly #root: string;
  #draining = false;
  /** `default_metadata` as a Map (string keys), and as a plain object when that keeps its order. */
  readonly #defaults: { readonly map: ReadonlyMap<string, PyValue>; readonly object: Metadata | undefined };

  constructor(options: O, context: ActorContext) {
    super(options, context);
    this.#queue = new PQueue({ concurrency: options.concurrency ?? 1 });
    this.#backoff = {
      ...DEFAULT_BACKOFF,
      initialMs: options.retry_delay_ms ?? DEFAULT_BACKOFF.initialMs,
      maxMs: options.retry_max_delay_ms ?? DEFAULT_BACKOFF.maxMs,
    };
    this.#root = options.root === undefined ? context.root : path.resolve(context.baseDir, options.root);
    const defaults = new Map(entriesOf(options.default_metadata));
    this.#defaults = { map: defaults, object: [...defaults.keys()].every(isPlainObjectKey) ? Object.fromEntries(defaults) : undefined };
  }

  /**
   * Stores one event. Throw to fail: the event is retried with backoff unless the error is an
   * `UnrecoverableError` (or has `retryable: false`), then dead-lettered.
   * @param source the HERO the event came from
   * @param payload the first element of the event value
   * @param metadata `default_metadata` merged with the event's metadata (a fresh object per call)
   */
  abstract store(source: string, payload: PyValue, metadata: Metadata, context: StoreContext): Promise<void>;

  /**
   * Stores several events in one call, for archivers that write many events at once (rows of
   * a file): the queue then hands each call up to {@link maxStoreBatch} events, and
   * `concurrency` counts events in flight, not calls. Resolves to one outcome per event, in
   * order: `undefined` when it is stored, or the error, handled as if `store` had thrown it
   * (retry, or dead-letter). A rejection fails every event of the call; a timeout aborts
   * `signal` and fails those not settled yet. By default each event goes to `store`.
   */
  async storeBatch(events: readonly BatchEvent[], signal: AbortSignal): Promise<readonly unknown[]> {
    return Promise.all(
      events.map((e) =>
        this.store(e.source, e.payload, e.metadata, { signal, attempt: e.attempt, key: e.key, receivedAt: e.receivedAt, metadataInOrder: e.metadataInOrder }).then(
          () => undefined,
          (err: unknown) => err ?? new Error('store failed without a reason'),
        ),
      ),
    );
  }

  /**
   * Most events one {@link storeBatch} call gets. 1 (the default): the queue calls `store`
   * for each event, `concurrency` at a time. Above 1, the events that arrived in one turn of
   * the event loop go to `storeBatch` together.
   */
  protected maxStoreBatch(): number {
    return 1;
  }

  /** A snapshot of the counters. */
  stats(): ArchiverStats {
    const spool = this.#spool?.stats();
    return { ...this.#stats, pending: this.#pending.size + this.#spooledWaiting, spooled: this.#spooledWaiting, spoolBytes: spool?.bytes ?? 0 };
  }

  /**
   * How far the actor is behind in writing to its spool: bytes appended and not yet written,
   * per `memory_budget_bytes`. Those bytes wait in memory, beyond the budget; at 1 and above
   * the supervisor stops reading from the bus until it is back under 0.5 (see README,
   * "Nothing lost").
   */
  receivePressure(): number {
    const unwritten = this.#spool?.unwrittenBytes ?? 0;
    return unwritten / (this.options.memory_budget_bytes ?? 64 * 1024 * 1024);
  }

  /** Resolves once nothing is pending (in memory, storing, waiting to retry, or spooled). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0 || this.#spooledWaiting > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  protected override async onStart(): Promise<void> {
    const dir = path.join(this.context.spoolDir, this.id);
    this.#spool = await Spool.open(dir, {
      quotaBytes: this.options.spool_quota_bytes ?? 10 * 1024 ** 3,
      syncIntervalMs: this.options.spool_sync_interval_ms ?? 10,
      sync: 'interval',
      onError: (err) => this.logger.error({ code: err.code, err }, 'spool background work failed; retrying'),
    });
    const recovered = this.#spool.recovered;
    this.#spooledWaiting = recovered.records;
    if (recovered.records > 0 || recovered.corruptBytes > 0) {
      // Left by a crash (or a stop that ran out of drain time): stored first, in order.
      this.logger.warn({ events: recovered.records, bytes: recovered.bytes, corruptBytes: recovered.corruptBytes, corruptFiles: recovered.corruptFiles }, 'recovered spooled events');
    }
    this.#pump = this.#runPump();
  }

  /**
   * Accepts an event value `[payload, metadata]` from HERO `source`, as herostools' `feed`.
   * Malformed values go to the dead-letter folder.
   */
  feed(source: string, data: PyValue, sample?: Partial<SampleInfo>): void {
    this.#stats.received++;
    const receivedAt = sample?.receivedAt ?? Date.now();
    // The sample keeps counting against the bus's receive budget until the event is done with.
    const letGo = sample?.hold?.();
    const item = this.#itemFor(source, data, sample?.raw, sample?.key, receivedAt, undefined, sample?.owned === true);
    if (item instanceof ArchiverError) {
      this.#deadLetterNow({ source, event: data, raw: sample?.raw, key: sample?.key, receivedAt, error: item, attempts: 0 }, letGo);
      return;
    }
    item.letGo = letGo;
    this.#admit(item);
  }

  /**
   * The queue item of an event value, or the error that sends it to the dead-letter folder when
   * it is not `[payload, metadata]`. The metadata is Python's `default_metadata | metadata`:
   * keys keep the defaults' order, the event's values win, the event's new keys follow.
   * `store` gets a plain-object copy.
   */
  #itemFor(source: string, data: PyValue, raw: Uint8Array | undefined, key: string | undefined, receivedAt: number, spoolId: SpoolRecordId | undefined, rawOwned: boolean): Item | ArchiverError {
    const shape = this.splitEvent(data);
    if (typeof shape === 'string') {
      return new ArchiverError('ARCHIVER_EVENT_MALFORMED', `event from "${source}" is not [payload, metadata]: ${shape}`, { actorId: this.id });
    }
    return {
      source,
      payload: shape.payload,
      metadata: this.#merged(shape.metadata),
      event: data,
      raw,
      rawOwned,
      key,
      receivedAt,
      // An event read back from the spool was accepted when it was received (wall clock).
      acceptedAt: spoolId === undefined ? performance.now() : performance.now() - Math.max(0, Date.now() - receivedAt),
      attempts: 0,
      faultRetries: 0,
      retryTimer: undefined,
      done: false,
      memBytes: 0,
      spoolId,
      spooling: false,
      letGo: undefined,
    };
  }

  /**
   * Splits an event value into its payload and metadata, or says (a string) why it cannot: the
   * event is then dead-lettered (`ARCHIVER_EVENT_MALFORMED`). By default herostools' rule: a
   * list or tuple `[payload, metadata]` whose metadata is a dict.
   */
  protected splitEvent(data: PyValue): { payload: PyValue; metadata: Metadata | ReadonlyMap<PyValue, PyValue> } | string {
    return eventParts(data);
  }

  /**
   * `default_metadata | metadata`. A plain object keeps insertion order except for keys like
   * "10" (moved to the front) and `__proto__`, so it is used only when no such key is involved:
   * the event's own object when there are no defaults (the decoder gives a plain object only
   * when its keys allow), else the two spread together. Otherwise a Map, which keeps any order.
   */
  #merged(meta: Metadata | ReadonlyMap<PyValue, PyValue>): OrderedMetadata {
    const defaults = this.#defaults;
    if (!(meta instanceof Map)) {
      if (defaults.map.size === 0) return meta as Metadata;
      if (defaults.object !== undefined && plainKeys(meta as Metadata)) return { ...defaults.object, ...(meta as Metadata) };
    }
    const ordered = new Map(defaults.map);
    for (const [k, v] of entriesOf(meta as Metadata | ReadonlyMap<PyValue, PyValue>)) ordered.set(k, v);
    return ordered;
  }

  /**
   * Takes an accepted event into memory, or — beyond the memory budget, or while older events
   * wait in the spool (order) — into the spool only. In durability "spool" an event kept in
   * memory is also appended to the spool, and acked there once stored.
   */
  #admit(item: Item): void {
    const spool = this.#spool;
    const bytes = item.raw?.byteLength ?? 0;
    if (spool === undefined || this.#pumpStopped) {
      // Not started (re-play) or stopping: nothing to spill into.
      this.#hold(item, bytes);
      return;
    }
    if (this.#spooledWaiting === 0 && this.#roomFor(bytes)) {
      this.#hold(item, bytes);
      if (this.options.durability !== 'memory') this.#spoolItem(item, { handOut: false });
      return;
    }
    this.#spooledWaiting++;
    // Only the record is kept until it is written (then its bytes are let go too); the decoded
    // event is let go now.
    const source = item.source;
    spool.append(spoolRecord(item), {}).then(
      () => {
        freeRaw(item);
        this.#stats.durable++;
        this.#wakePump();
      },
      (err: unknown) => {
        freeRaw(item);
        this.#spooledWaiting--;
        this.#refuse(source, err);
      },
    );
  }

  #hold(item: Item, bytes: number): void {
    item.memBytes = bytes;
    this.#memItems++;
    this.#memBytes += bytes;
    this.#pending.add(item);
    this.#enqueue(item);
  }

  #roomFor(bytes: number): boolean {
    return this.#memItems < (this.options.memory_budget_events ?? 10_000) && (this.#memItems === 0 || this.#memBytes + bytes <= (this.options.memory_budget_bytes ?? 64 * 1024 * 1024));
  }

  /** Appends an item held in memory to the spool; acks it at once if it was stored meanwhile. */
  #spoolItem(item: Item, options: { handOut: boolean }): Promise<void> {
    item.spooling = true;
    return this.#spool!.append(spoolRecord(item), options).then(
      (id) => {
        item.spooling = false;
        item.spoolId = id;
        this.#stats.durable++;
        if (item.done) {
          this.#spool?.ack(id);
          freeRaw(item);
        }
      },
      (err: unknown) => {
        item.spooling = false;
        if (item.done) freeRaw(item);
        // The event is still in memory and will be stored; it is only not crash-safe.
        this.#logRefusal(err, 'event kept in memory only: the spool refused it');
      },
    );
  }

  #refuse(source: string, err: unknown): void {
    this.#stats.refused++;
    this.#lastRefusalAt = Date.now();
    this.#logRefusal(err, 'event refused: the spool is full and the memory budget is used up', source);
  }

  #logRefusal(err: unknown, msg: string, source?: string): void {
    const now = Date.now();
    if (now - this.#lastRefusalLog < FAULT_LOG_INTERVAL_MS / 6) return;
    this.#lastRefusalLog = now;
    this.logger.error({ code: errorCode(err, 'ARCHIVER_SPOOL_FULL'), refused: this.#stats.refused, source, err }, msg);
  }

  #wakePump(): void {
    const wake = this.#pumpWake;
    this.#pumpWake = undefined;
    wake?.();
  }

  /** Moves spooled events into memory, in order, as the memory budget allows. */
  async #runPump(): Promise<void> {
    const spool = this.#spool!;
    while (!this.#pumpStopped) {
      const room = (this.options.memory_budget_events ?? 10_000) - this.#memItems;
      if (this.#spooledWaiting <= 0 || room <= 0 || !this.#roomFor(0)) {
        await new Promise<void>((r) => {
          this.#pumpWake = r;
          // Also look again now and then: an append may have been written without a wake-up.
          setTimeout(r, 200).unref();
        });
        continue;
      }
      let records;
      try {
        records = await spool.read(Math.min(room, 256));
      } catch (err) {
        this.logger.error({ code: errorCode(err, 'ARCHIVER_SPOOL_FAILED'), err }, 'cannot read the spool; retrying');
        if (errorCode(err) === 'ARCHIVER_SPOOL_CORRUPT') this.#spooledWaiting--;
        await new Promise((r) => setTimeout(r, 500).unref());
        continue;
      }
      if (records.length === 0) {
        await new Promise<void>((r) => {
          this.#pumpWake = r;
          setTimeout(r, 20).unref();
        });
        continue;
      }
      for (const rec of records) {
        this.#spooledWaiting--;
        this.#fromSpool(rec.id, rec.payload);
      }
    }
  }

  #fromSpool(id: SpoolRecordId, payload: Uint8Array): void {
    // The view shares a buffer with the other records of the read; keep a copy of our part.
    const rec = decodeSpoolRecord(payload.slice());
    if (rec === undefined) {
      this.logger.error({ spoolRecord: id }, 'unreadable spool record skipped (kept on disk until acked)');
      return;
    }
    let value: PyValue;
    try {
      value = decodeHeros(rec.raw);
    } catch (err) {
      const error = err instanceof ArchiverError ? err : new ArchiverError('ARCHIVER_DECODE_FAILED', String(err), { actorId: this.id });
      void this.#writeDeadLetter({ source: rec.source, event: undefined, raw: rec.raw, key: rec.key, receivedAt: rec.receivedAt, error, attempts: 0 }).then(() => this.#spool?.ack(id));
      return;
    }
    // The record was copied out of the read buffer above: its bytes are ours alone.
    const item = this.#itemFor(rec.source, value, rec.raw, rec.key, rec.receivedAt, id, true);
    if (item instanceof ArchiverError) {
      void this.#writeDeadLetter({ source: rec.source, event: value, raw: rec.raw, key: rec.key, receivedAt: rec.receivedAt, error: item, attempts: 0 }).then(() => this.#spool?.ack(id));
      return;
    }
    this.#hold(item, rec.raw.byteLength);
  }

  /**
   * Resolves a rendered template to an absolute path inside the actor's archive root; throws
   * `ARCHIVER_PATH_OUTSIDE_ROOT` otherwise.
   */
  protected resolvePath(rendered: string): string {
    return resolveArchivePath(rendered, { root: this.#root, baseDir: this.context.baseDir }, this.id);
  }

  protected override receive(source: string, value: PyValue, sample: SampleInfo): void {
    this.feed(source, value, sample);
  }

  protected override onUndecodable(source: string, sample: SampleInfo, error: ArchiverError): void {
    this.#stats.received++;
    this.#deadLetterNow({ source, event: undefined, raw: sample.raw, key: sample.key, receivedAt: sample.receivedAt, error, attempts: 0 }, sample.hold?.());
  }

  protected override async onStop(): Promise<void> {
    this.#draining = true;
    // Events waiting for a retry are tried once more now rather than after their backoff.
    for (const item of this.#pending) {
      if (item.retryTimer !== undefined) {
        clearTimeout(item.retryTimer);
        item.retryTimer = undefined;
        this.#enqueue(item);
      }
    }
    const drained = await waitFor(() => this.#pending.size === 0 && this.#spooledWaiting <= 0, this.context.drainTimeoutMs);
    this.#pumpStopped = true;
    this.#wakePump();
    await this.#pump;
    if (!drained) {
      this.#abort.abort(new ArchiverError('ARCHIVER_STOPPED_UNSTORED', 'actor stopped', { actorId: this.id }));
      for (const c of this.#running.keys()) c.abort(this.#abort.signal.reason);
      this.#queue.clear();
      this.#ready = [];
      this.#readyHead = 0;
      const left = [...this.#pending];
      for (const item of left) if (item.retryTimer !== undefined) clearTimeout(item.retryTimer);
      // What the drain could not store stays in (or goes to) the spool and is stored first at
      // the next start; only without a usable spool is it dead-lettered.
      let kept = 0;
      let deadLettered = 0;
      await Promise.all(
        left.map(async (item) => {
          if (item.spooling) await waitFor(() => !item.spooling, 5_000);
          if (item.spoolId === undefined && this.#spool !== undefined) await this.#spoolItem(item, { handOut: true });
          if (item.spoolId !== undefined) {
            kept++;
            item.done = true;
            this.#pending.delete(item);
            takeLetGo(item)?.();
            return;
          }
          deadLettered++;
          const error = new ArchiverError('ARCHIVER_STOPPED_UNSTORED', `not stored within the drain timeout of ${this.context.drainTimeoutMs} ms`, { actorId: this.id });
          await this.#finishDeadLetter(item, error);
        }),
      );
      this.logger.warn(
        { inSpool: kept + Math.max(0, this.#spooledWaiting), deadLettered, drainTimeoutMs: this.context.drainTimeoutMs },
        'drain timeout: events not yet stored stay in the spool for the next start',
      );
    }
    await this.#queue.onIdle();
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    await this.#spool?.close();
  }

  /**
   * Queues an item for a store. The queue runs up to `concurrency` workers, each storing one
   * item after the other until none is left, rather than one task per item: a task of the queue
   * costs about a microsecond, which at 100 000 small events per second was its own bottleneck.
   */
  #enqueue(item: Item): void {
    this.#ready.push(item);
    if (this.maxStoreBatch() > 1) {
      this.#dispatchSoon();
      return;
    }
    if (this.#workers >= (this.options.concurrency ?? 1)) return;
    this.#workers++;
    // Never more workers than the queue runs at once: each starts at once (so clearing the
    // queue leaves no worker counted that will not run) and its items are handled by onStop.
    void this.#queue.add(() => this.#work()).catch((err: unknown) => this.logger.debug({ err }, 'queue task rejected'));
  }

  async #work(): Promise<void> {
    try {
      for (let item = this.#nextReady(); item !== undefined; item = this.#nextReady()) await this.#attempt(item);
    } finally {
      this.#workers--;
    }
  }

  /**
   * Dispatches ready events after the callbacks of this turn of the event loop, so the events
   * that arrived together (a socket read, a spool read) go to one storeBatch call.
   */
  #dispatchSoon(): void {
    if (this.#dispatchDue) return;
    this.#dispatchDue = true;
    setImmediate(() => {
      this.#dispatchDue = false;
      this.#dispatch();
    });
  }

  /** Hands ready events to storeBatch while fewer than `concurrency` are in flight. */
  #dispatch(): void {
    const max = this.maxStoreBatch();
    const concurrency = this.options.concurrency ?? 1;
    while (this.#inFlight < concurrency && this.#readyHead < this.#ready.length) {
      const n = Math.min(max, concurrency - this.#inFlight, this.#ready.length - this.#readyHead);
      const group: Item[] = [];
      for (let i = 0; i < n; i++) {
        const item = this.#nextReady()!;
        if (!item.done) group.push(item);
      }
      if (group.length === 0) continue;
      this.#inFlight += group.length;
      void this.#queue.add(() => this.#attemptBatch(group)).catch((err: unknown) => this.logger.debug({ err }, 'queue task rejected'));
    }
  }

  #nextReady(): Item | undefined {
    if (this.#readyHead >= this.#ready.length) return undefined;
    const item = this.#ready[this.#readyHead]!;
    this.#ready[this.#readyHead++] = undefined as never;
    if (this.#readyHead >= 1024 && this.#readyHead * 2 >= this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return item;
  }

  async #attempt(item: Item): Promise<void> {
    if (item.done) return;
    item.attempts++;
    const began = performance.now();
    try {
      await this.#timed((signal) =>
        this.store(item.source, item.payload, metadataObject(item.metadata), new QueuedContext(signal, item)),
      );
    } catch (err) {
      if (!item.done) this.#failed(item, err);
      return;
    }
    if (!item.done) this.#stored(item, began);
  }

  /** One storeBatch call for `items`; each is then counted as stored or failed on its own. */
  async #attemptBatch(items: Item[]): Promise<void> {
    const began = performance.now();
    const events: BatchEvent[] = [];
    for (const item of items) {
      item.attempts++;
      events.push(new QueuedEvent(item));
    }
    let outcomes: readonly unknown[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.#timed((signal) => this.storeBatch(events, signal));
      if (!Array.isArray(outcomes) || outcomes.length !== items.length) {
        failure = new ArchiverError('ARCHIVER_STORE_FAILED', `storeBatch gave ${Array.isArray(outcomes) ? outcomes.length : 'no'} outcomes for ${items.length} events`, { actorId: this.id });
      }
    } catch (err) {
      failure = err;
    } finally {
      this.#inFlight -= items.length;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.done) continue;
      const err = failure ?? outcomes![i];
      if (err === undefined) this.#stored(item, began);
      else this.#failed(item, err);
    }
    this.#dispatchSoon();
  }

  /**
   * Runs one store call with its own signal, failed (and the signal aborted) by the timeout
   * sweep once it runs past `store_timeout_ms`, or when the actor stops for good.
   */
  async #timed<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (this.#abort.signal.aborted) controller.abort(this.#abort.signal.reason);
    try {
      // One promise settled by the store or by the timeout sweep, whichever comes first (a
      // store that throws synchronously rejects it too).
      return await new Promise<T>((resolve, reject) => {
        this.#running.set(controller, { deadline: performance.now() + this.#storeTimeoutMs(), reject });
        this.#sweeper ??= setInterval(() => this.#sweepTimeouts(), sweepIntervalMs(this.#storeTimeoutMs()));
        run(controller.signal).then(resolve, reject);
      });
    } finally {
      this.#running.delete(controller);
    }
  }

  #stored(item: Item, began: number): void {
    this.#stats.stored++;
    const metrics = this.context.metrics;
    if (metrics) {
      const now = performance.now();
      metrics.observeStore(this.id, (now - began) / 1000);
      metrics.observeEventLatency?.(this.id, (now - item.acceptedAt) / 1000);
    }
    if (this.#fault !== undefined) {
      this.logger.info({ errno: this.#fault.code, durationMs: Date.now() - this.#fault.since, events: this.#fault.events }, 'storage fault cleared; archiving resumed');
      this.#fault = undefined;
    }
    this.#finish(item);
  }

  #storeTimeoutMs(): number {
    return this.options.store_timeout_ms ?? 60_000;
  }

  /** Aborts and fails every store running past its deadline. */
  #sweepTimeouts(): void {
    const now = performance.now();
    for (const [controller, run] of this.#running) {
      if (now < run.deadline) continue;
      this.#running.delete(controller);
      const err = new ArchiverError('ARCHIVER_STORE_TIMEOUT', `store did not finish within ${this.#storeTimeoutMs()} ms`, { actorId: this.id });
      controller.abort(err);
      run.reject(err);
    }
  }

  #failed(item: Item, err: unknown): void {
    const maxRetries = this.options.max_retries ?? 5;
    const fault = storageFault(err);
    if (fault !== undefined) {
      this.#onStorageFault(item, err, fault);
      return;
    }
    if (!isRetryable(err)) {
      void this.#finishDeadLetter(item, err);
      return;
    }
    if (item.attempts - item.faultRetries > maxRetries) {
      const last = err instanceof Error ? err.message : String(err);
      const error = new ArchiverError('ARCHIVER_RETRIES_EXHAUSTED', `store failed ${item.attempts} times (max_retries=${maxRetries}); last error: ${last}`, {
        actorId: this.id,
        cause: err,
      });
      void this.#finishDeadLetter(item, error);
      return;
    }
    this.#stats.retried++;
    // An event that waits for a retry no longer counts against the bus's receive budget: one
    // failing actor must not hold up the others' events (its own memory budget still applies).
    takeLetGo(item)?.();
    const delay = this.#draining ? 0 : backoffDelay(item.attempts, this.#backoff);
    this.logger.warn(
      { source: item.source, attempt: item.attempts, maxRetries, delayMs: delay, code: errorCode(err), err },
      'store failed; retrying',
    );
    if (delay === 0) {
      this.#enqueue(item);
      return;
    }
    item.retryTimer = setTimeout(() => {
      item.retryTimer = undefined;
      this.#enqueue(item);
    }, delay);
  }

  /**
   * A fault of the storage itself (disk full, read-only or unwritable file system, I/O error):
   * every event would fail alike, so retrying toward `max_retries` would only move the whole
   * stream into the dead-letter folder — which is usually on the same disk. Such events are
   * retried until the fault clears (with capped backoff), without using up their retries; the
   * actor reports itself unhealthy meanwhile, and logs the fault once, not per event.
   */
  #onStorageFault(item: Item, err: unknown, code: string): void {
    this.#stats.storageFaults++;
    item.faultRetries++;
    takeLetGo(item)?.();
    const now = Date.now();
    if (this.#fault === undefined) {
      this.#fault = { code, message: err instanceof Error ? err.message : String(err), since: now, lastLog: now, events: 1 };
      this.logger.error({ code: 'ARCHIVER_STORE_FAILED', errno: code, err }, 'storage fault: events are kept and retried until it clears');
    } else {
      this.#fault.events++;
      if (now - this.#fault.lastLog >= FAULT_LOG_INTERVAL_MS) {
        this.#fault.lastLog = now;
        this.logger.error({ code: 'ARCHIVER_STORE_FAILED', errno: code, sinceMs: now - this.#fault.since, pending: this.#pending.size }, 'storage fault persists');
      }
    }
    // Backoff continues to grow per event, capped; attempts still count for the record.
    const delay = backoffDelay(Math.min(item.faultRetries, 30), this.#backoff);
    item.retryTimer = setTimeout(() => {
      item.retryTimer = undefined;
      this.#enqueue(item);
    }, delay);
  }

  /** Whether the actor can store right now; unhealthy during a storage fault. */
  health(): ArchiverHealth {
    if (this.#lastRefusalAt > 0 && Date.now() - this.#lastRefusalAt < REFUSAL_UNHEALTHY_MS) {
      return { healthy: false, fault: { errno: 'ARCHIVER_SPOOL_FULL', message: `${this.#stats.refused} events refused: spool full`, since: new Date(this.#lastRefusalAt).toISOString() } };
    }
    const f = this.#fault;
    return f === undefined ? { healthy: true } : { healthy: false, fault: { errno: f.code, message: f.message, since: new Date(f.since).toISOString() } };
  }

  #finish(item: Item): void {
    item.done = true;
    this.#release(item);
  }

  /** An item is done (stored or dead-lettered): free its memory, ack its spool record. */
  #release(item: Item): void {
    if (this.#pending.delete(item)) {
      this.#memItems--;
      this.#memBytes -= item.memBytes;
    }
    if (item.spoolId !== undefined) this.#spool?.ack(item.spoolId);
    if (!item.spooling) freeRaw(item);
    // Room in memory matters to the pump only while events wait in the spool.
    if (this.#spooledWaiting > 0) this.#wakePump();
  }

  async #finishDeadLetter(item: Item, error: unknown): Promise<void> {
    if (item.done) return;
    item.done = true;
    await this.#writeDeadLetter({ ...item, error, attempts: item.attempts });
    this.#release(item);
  }

  #deadLetterNow(entry: DeadLetterItem, letGo?: () => void): void {
    const marker = { done: false } as unknown as Item;
    this.#pending.add(marker);
    void this.#writeDeadLetter(entry).finally(() => {
      this.#pending.delete(marker);
      letGo?.();
    });
  }

  async #writeDeadLetter(entry: DeadLetterItem): Promise<void> {
    const error = entry.error;
    const code = errorCode(error);
    let event: Uint8Array;
    try {
      event = entry.raw ?? encodeHeros(entry.event ?? null);
    } catch {
      event = new Uint8Array(0);
    }
    let metadataJson: string | undefined;
    if (entry.metadata !== undefined) {
      try {
        metadataJson = pyJsonDumps(entry.metadata as PyValue, { rootPath: 'metadata' });
      } catch {
        metadataJson = undefined;
      }
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const dir = await this.context.deadLetters.put({
          actor: this.id,
          classname: this.context.classname,
          source: entry.source,
          ...(entry.key === undefined ? {} : { key: entry.key }),
          error,
          attempts: entry.attempts,
          receivedAt: entry.receivedAt,
          event,
          ...(metadataJson === undefined ? {} : { metadataJson }),
        });
        this.#stats.deadLettered++;
        this.logger.error({ source: entry.source, code, attempts: entry.attempts, deadLetter: dir, err: error }, 'event dead-lettered');
        return;
      } catch (err) {
        // The dead-letter folder itself failed (disk full?): keep the event and try again,
        // unless we are shutting down for good.
        const delay = backoffDelay(attempt, this.#backoff);
        this.logger.error({ source: entry.source, code: 'ARCHIVER_DEAD_LETTER_FAILED', attempt, delayMs: delay, err }, 'cannot write dead-letter entry; retrying');
        if (this.#abort.signal.aborted && attempt >= 3) {
          this.logger.fatal({ source: entry.source, code }, 'event lost: dead-letter folder unwritable during shutdown');
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

interface DeadLetterItem {
  readonly source: string;
  readonly event: PyValue;
  readonly raw: Uint8Array | undefined;
  readonly key: string | undefined;
  readonly receivedAt: number;
  readonly metadata?: OrderedMetadata;
  readonly error: unknown;
  readonly attempts: number;
}

/** The item's hold on the bus's receive budget, taken off it (to be called once). */
function takeLetGo(item: Item): (() => void) | undefined {
  const letGo = item.letGo;
  item.letGo = undefined;
  return letGo;
}

/** Below this, the garbage collector frees a buffer soon enough. */
const FREE_RAW_MIN_BYTES = 64 * 1024;

/**
 * Releases the memory of a done event's bytes at once, when they are ours alone (detaching the
 * buffer frees it; every view of it — the decoded payload — reads as empty afterwards). Large
 * frames otherwise wait for a major garbage collection, which under a stream of 4 MiB frames
 * let hundreds of MiB of finished events stay resident.
 */
function freeRaw(item: Item): void {
  takeLetGo(item)?.();
  const raw = item.raw;
  if (!item.rawOwned || raw === undefined || raw.byteLength < FREE_RAW_MIN_BYTES) return;
  const buffer = raw.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
  if (buffer.detached === true || typeof buffer.transfer !== 'function' || buffer instanceof SharedArrayBuffer) return;
  buffer.transfer(0);
}

/** Whether every key of `o` keeps its insertion order in a plain object. */
function plainKeys(o: Metadata): boolean {
  for (const k in o) if (!isPlainObjectKey(k)) return false;
  return true;
}

/** Splits an event value like herostools does (`data[0]`, `data[1]` must be a dict). */
function eventParts(data: PyValue): { payload: PyValue; metadata: Metadata | ReadonlyMap<PyValue, PyValue> } | string {
  if (!Array.isArray(data)) return `got ${kindOf(data)}, expected a list or tuple`;
  if (data.length < 2) return `got a list of ${data.length} element${data.length === 1 ? '' : 's'}, expected 2`;
  const meta = data[1];
  if (meta instanceof Map) return { payload: data[0], metadata: meta };
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta) || meta instanceof Uint8Array || meta instanceof Set || Object.getPrototypeOf(meta) !== Object.prototype) {
    return `metadata (second element) is ${kindOf(meta)}, expected a dict`;
  }
  return { payload: data[0], metadata: meta as Metadata };
}

/** Entries of a dict-like value; non-string keys (Python ints) become their decimal text. */
function entriesOf(dict: Metadata | ReadonlyMap<PyValue, PyValue> | undefined): [string, PyValue][] {
  if (dict === undefined) return [];
  if (dict instanceof Map) return [...dict].map(([k, v]) => [typeof k === 'string' ? k : String(k), v]);
  return Object.entries(dict as Metadata);
}

function kindOf(v: PyValue): string {
  if (v === null || v === undefined) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  return `a ${typeof v}`;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/**
 * A spool record: the event as received plus what is needed to handle it again, the CBOR of
 * `[1, source, key, receivedAt, raw]`. Returned in two parts — the CBOR up to the byte string's
 * header, and the received bytes themselves — so the event is not copied to be spooled.
 */
function spoolRecord(item: Item): Uint8Array[] {
  const raw = item.raw ?? encodeHeros(item.event);
  const t = item.receivedAt;
  if (!Number.isSafeInteger(t) || t < 0) return [encodeHeros([1, item.source, item.key ?? null, t, raw])];
  const sourceLen = Buffer.byteLength(item.source);
  const keyLen = item.key === undefined ? -1 : Buffer.byteLength(item.key);
  const size = 2 + headSize(sourceLen) + sourceLen + (keyLen < 0 ? 1 : headSize(keyLen) + keyLen) + headSize(t) + headSize(raw.byteLength);
  // A small slice of Node's shared pool: one cheap allocation per record, kept until written.
  const b = Buffer.allocUnsafe(size);
  let p = 0;
  b[p++] = 0x85; // array of 5
  b[p++] = 0x01; // record version 1
  p = writeHead(b, p, 3, sourceLen);
  p += b.write(item.source, p, 'utf8');
  if (item.key === undefined) b[p++] = 0xf6; // null
  else {
    p = writeHead(b, p, 3, keyLen);
    p += b.write(item.key, p, 'utf8');
  }
  p = writeHead(b, p, 0, t);
  p = writeHead(b, p, 2, raw.byteLength);
  return [b.subarray(0, p), raw];
}

/** Bytes of a CBOR initial byte with the shortest argument `n` (a non-negative safe integer). */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/** Writes a CBOR initial byte of `major` with argument `n` at `p`; returns the next position. */
function writeHead(b: Buffer, p: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) b[p++] = m | n;
  else if (n < 0x100) (b[p++] = m | 24), (b[p++] = n);
  else if (n < 0x10000) (b[p++] = m | 25), (p = b.writeUInt16BE(n, p));
  else if (n < 0x100000000) (b[p++] = m | 26), (p = b.writeUInt32BE(n, p));
  else (b[p++] = m | 27), (p = b.writeUInt32BE(Math.floor(n / 0x100000000), p)), (p = b.writeUInt32BE(n >>> 0, p));
  return p;
}

function decodeSpoolRecord(bytes: Uint8Array): { source: string; key: string | undefined; receivedAt: number; raw: Uint8Array } | undefined {
  try {
    const v = decodeHeros(bytes);
    if (!Array.isArray(v) || v[0] !== 1 || typeof v[1] !== 'string' || !(v[4] instanceof Uint8Array)) return undefined;
    return { source: v[1], key: typeof v[2] === 'string' ? v[2] : undefined, receivedAt: typeof v[3] === 'number' ? v[3] : Date.now(), raw: v[4] };
  } catch {
    return undefined;
  }
}
