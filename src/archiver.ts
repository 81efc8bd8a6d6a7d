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
import { encodeHeros } from './heros/cbor.js';
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

/** Counters of one archiver. */
export interface ArchiverStats {
  received: number;
  stored: number;
  retried: number;
  deadLettered: number;
  /** Store attempts that failed on a storage fault (disk full, read-only, I/O error). */
  storageFaults: number;
  /** Events accepted and not yet stored or dead-lettered (queued, in a store, or waiting to retry). */
  pending: number;
}

interface Item {
  readonly source: string;
  readonly payload: PyValue;
  /** Merged metadata in Python's key order. */
  readonly metadata: ReadonlyMap<string, PyValue>;
  /** The event as received, for dead-letter records. */
  readonly event: PyValue;
  readonly raw: Uint8Array | undefined;
  readonly key: string | undefined;
  readonly receivedAt: number;
  attempts: number;
  /** Attempts that failed on a storage fault; they do not count toward max_retries. */
  faultRetries: number;
  retryTimer: NodeJS.Timeout | undefined;
  done: boolean;
}

/** Base class of archivers: implement {@link DataArchiver.store}. */
export abstract class DataArchiver<O extends DataArchiverOptions = DataArchiverOptions> extends EventObserver<O> {
  static override readonly optionsSchema: OptionsSchema = {
    ...EventObserver.optionsSchema,
    default_metadata: { type: 'object', default: {}, doc: 'Metadata every event starts from; keys the event sends win.' },
    max_retries: { type: 'integer', default: 5, min: 0, doc: 'Retries after a failed store before the event goes to the dead-letter folder.' },
    retry_delay_ms: { type: 'integer', default: DEFAULT_BACKOFF.initialMs, min: 0, doc: 'Delay before the first retry (ms); doubles per retry, with jitter.' },
    retry_max_delay_ms: { type: 'integer', default: DEFAULT_BACKOFF.maxMs, min: 0, doc: 'Longest delay between two retries (ms).' },
    store_timeout_ms: { type: 'integer', default: 60_000, min: 1, doc: 'A store still running after this many ms is aborted and retried.' },
    concurrency: { type: 'integer', default: 1, min: 1, max: 64, doc: 'Stores running at once. 1 keeps the order of files written to the same name.' },
    root: { type: 'string', nonEmpty: true, doc: "Folder that rendered paths must stay inside. Default: the daemon's `--root`." },
  };

  readonly #queue: PQueue;
  readonly #pending = new Set<Item>();
  readonly #backoff: BackoffOptions;
  readonly #abort = new AbortController();
  readonly #stats: ArchiverStats = { received: 0, stored: 0, retried: 0, deadLettered: 0, storageFaults: 0, pending: 0 };
  #fault: { code: string; message: string; since: number; lastLog: number; events: number } | undefined;
  readonly #root: string;
  #draining = false;

  constructor(options: O, context: ActorContext) {
    super(options, context);
    this.#queue = new PQueue({ concurrency: options.concurrency ?? 1 });
    this.#backoff = {
      ...DEFAULT_BACKOFF,
      initialMs: options.retry_delay_ms ?? DEFAULT_BACKOFF.initialMs,
      maxMs: options.retry_max_delay_ms ?? DEFAULT_BACKOFF.maxMs,
    };
    this.#root = options.root === undefined ? context.root : path.resolve(context.baseDir, options.root);
  }

  /**
   * Stores one event. Throw to fail: the event is retried with backoff unless the error is an
   * `UnrecoverableError` (or has `retryable: false`), then dead-lettered.
   * @param source the HERO the event came from
   * @param payload the first element of the event value
   * @param metadata `default_metadata` merged with the event's metadata (a fresh object per call)
   */
  abstract store(source: string, payload: PyValue, metadata: Metadata, context: StoreContext): Promise<void>;

  /** A snapshot of the counters. */
  stats(): ArchiverStats {
    return { ...this.#stats, pending: this.#pending.size };
  }

  /** Resolves once nothing is pending (queued, storing or waiting to retry). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /**
   * Accepts an event value `[payload, metadata]` from HERO `source`, as herostools' `feed`.
   * Malformed values go to the dead-letter folder.
   */
  feed(source: string, data: PyValue, sample?: Partial<SampleInfo>): void {
    this.#stats.received++;
    const receivedAt = sample?.receivedAt ?? Date.now();
    const shape = eventParts(data);
    if (typeof shape === 'string') {
      const error = new ArchiverError('ARCHIVER_EVENT_MALFORMED', `event from "${source}" is not [payload, metadata]: ${shape}`, { actorId: this.id });
      this.#deadLetterNow({ source, event: data, raw: sample?.raw, key: sample?.key, receivedAt, error, attempts: 0 });
      return;
    }
    // Python's `default_metadata | metadata`: keys keep the defaults' order, the event's values
    // win, the event's new keys follow. A Map keeps that order for every key (a plain object
    // would move keys like "10" to the front); templates get a plain-object view.
    const ordered = new Map<string, PyValue>(entriesOf(this.options.default_metadata));
    for (const [k, v] of shape.metadata) ordered.set(k, v);
    const item: Item = {
      source,
      payload: shape.payload,
      metadata: ordered,
      event: data,
      raw: sample?.raw,
      key: sample?.key,
      receivedAt,
      attempts: 0,
      faultRetries: 0,
      retryTimer: undefined,
      done: false,
    };
    this.#pending.add(item);
    this.#enqueue(item);
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
    this.#deadLetterNow({ source, event: undefined, raw: sample.raw, key: sample.key, receivedAt: sample.receivedAt, error, attempts: 0 });
  }

  protected override async onStop(): Promise<void> {
    this.#draining = true;
    // Events waiting for a retry are tried once more now rather than after their backoff.
    for (const item of this.#pending) {
      if (item.retryTimer !== undefined) {
        clearTimeout(item.retryTimer);
        item.retryTimer = undefined;
        this.#queue.add(() => this.#attempt(item));
      }
    }
    const drained = await waitFor(() => this.#pending.size === 0, this.context.drainTimeoutMs);
    if (!drained) {
      this.#abort.abort(new ArchiverError('ARCHIVER_STOPPED_UNSTORED', 'actor stopped', { actorId: this.id }));
      this.#queue.clear();
      const left = [...this.#pending];
      this.logger.error({ left: left.length, drainTimeoutMs: this.context.drainTimeoutMs }, 'drain timeout: dead-lettering events not yet stored');
      await Promise.all(
        left.map((item) => {
          if (item.retryTimer !== undefined) clearTimeout(item.retryTimer);
          const error = new ArchiverError('ARCHIVER_STOPPED_UNSTORED', `not stored within the drain timeout of ${this.context.drainTimeoutMs} ms`, { actorId: this.id });
          return this.#finishDeadLetter(item, error);
        }),
      );
    }
    await this.#queue.onIdle();
  }

  #enqueue(item: Item): void {
    void this.#queue.add(() => this.#attempt(item)).catch((err: unknown) => {
      // p-queue rejects only when cleared or aborted; the item is handled by onStop then.
      if (!item.done) this.logger.debug({ err }, 'queue task rejected');
    });
  }

  async #attempt(item: Item): Promise<void> {
    if (item.done) return;
    item.attempts++;
    const timeoutMs = this.options.store_timeout_ms ?? 60_000;
    const controller = new AbortController();
    const onStopAbort = (): void => controller.abort(this.#abort.signal.reason);
    this.#abort.signal.addEventListener('abort', onStopAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new ArchiverError('ARCHIVER_STORE_TIMEOUT', `store did not finish within ${timeoutMs} ms`, { actorId: this.id });
          controller.abort(err);
          reject(err);
        }, timeoutMs);
      });
      await Promise.race([
        this.store(item.source, item.payload, Object.fromEntries(item.metadata) as Metadata, {
          signal: controller.signal,
          attempt: item.attempts,
          key: item.key,
          receivedAt: item.receivedAt,
          metadataInOrder: new Map(item.metadata),
        }),
        timeout,
      ]);
      if (item.done) return;
      this.#stats.stored++;
      if (this.#fault !== undefined) {
        this.logger.info({ errno: this.#fault.code, durationMs: Date.now() - this.#fault.since, events: this.#fault.events }, 'storage fault cleared; archiving resumed');
        this.#fault = undefined;
      }
      this.#finish(item);
    } catch (err) {
      if (item.done) return;
      this.#failed(item, err);
    } finally {
      clearTimeout(timer);
      this.#abort.signal.removeEventListener('abort', onStopAbort);
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
    const f = this.#fault;
    return f === undefined ? { healthy: true } : { healthy: false, fault: { errno: f.code, message: f.message, since: new Date(f.since).toISOString() } };
  }

  #finish(item: Item): void {
    item.done = true;
    this.#pending.delete(item);
  }

  async #finishDeadLetter(item: Item, error: unknown): Promise<void> {
    if (item.done) return;
    item.done = true;
    await this.#writeDeadLetter({ ...item, error, attempts: item.attempts });
    this.#pending.delete(item);
  }

  #deadLetterNow(entry: DeadLetterItem): void {
    const marker = { done: false } as unknown as Item;
    this.#pending.add(marker);
    void this.#writeDeadLetter(entry).finally(() => this.#pending.delete(marker));
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
        metadataJson = pyJsonDumps(entry.metadata as Map<string, PyValue>, { rootPath: 'metadata' });
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
  readonly metadata?: ReadonlyMap<string, PyValue>;
  readonly error: unknown;
  readonly attempts: number;
}

/** Splits an event value like herostools does (`data[0]`, `data[1]` must be a dict). */
function eventParts(data: PyValue): { payload: PyValue; metadata: Iterable<[string, PyValue]> } | string {
  if (!Array.isArray(data)) return `got ${kindOf(data)}, expected a list or tuple`;
  if (data.length < 2) return `got a list of ${data.length} element${data.length === 1 ? '' : 's'}, expected 2`;
  const meta = data[1];
  if (meta instanceof Map) return { payload: data[0], metadata: entriesOf(meta) };
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta) || meta instanceof Uint8Array || meta instanceof Set || Object.getPrototypeOf(meta) !== Object.prototype) {
    return `metadata (second element) is ${kindOf(meta)}, expected a dict`;
  }
  return { payload: data[0], metadata: Object.entries(meta as Metadata) };
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
