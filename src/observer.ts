/**
 * EventObserver: the base of every actor. It subscribes to one HEROS event of the HEROs that
 * `object_selector` matches, decodes each sample from HEROS CBOR and hands it to
 * {@link EventObserver.receive}. Subclasses decide what to do with events; {@link DataArchiver}
 * (in `archiver.ts`) queues and stores them.
 *
 * Lifecycle: the constructor does no I/O; `start()` subscribes; `stop()` unsubscribes and lets
 * the subclass drain (`onStop`); `stop()` is idempotent.
 */
import type { Logger } from 'pino';
import type { Bus, Sample, Subscription } from './bus/bus.js';
import type { DeadLetterStore } from './dead-letter.js';
import { ArchiverError } from './errors.js';
import { decodeHeros } from './heros/cbor.js';
import { eventKeyExpr, sourceFromKey } from './heros/keys.js';
import type { PyValue } from './heros/values.js';
import type { OptionsSchema } from './options.js';

/** Marks actor classes across copies of this package (a plugin may bundle its own copy). */
export const ACTOR_BRAND = Symbol.for('heros-archiver.EventObserver');

/** Options every observer takes (names as in heros/herostools). */
export interface EventObserverOptions {
  /** Which HEROs: a name, `*`, or a key-expression fragment, spliced in as heros does. */
  readonly object_selector: string;
  /** The event to observe (the `@event` method's name). */
  readonly event_name: string;
  /** The HEROS realm. @default the daemon's `--realm` (`heros`) */
  readonly realm?: string;
}

/** What the supervisor gives each actor. */
export interface ActorContext {
  /** The manifest `_id`. */
  readonly id: string;
  /** The manifest `classname`. */
  readonly classname: string;
  /** Where events come from. */
  readonly bus: Bus;
  /** A child logger with `{actor: id}`. */
  readonly logger: Logger;
  /** The daemon's realm, used when the actor's options do not name one. */
  readonly realm: string;
  /** Folder rendered file paths must stay inside (see README, "Archive root"). */
  readonly root: string;
  /** Folder relative rendered paths are resolved from. */
  readonly baseDir: string;
  /** Where events that cannot be stored go. */
  readonly deadLetters: DeadLetterStore;
  /** Folder of the per-actor disk spools (`<state-dir>/spool`). */
  readonly spoolDir: string;
  /** Where store latencies and bytes written are counted (the daemon's metrics), if anywhere. */
  readonly metrics?: ActorMetrics;
  /** Drain budget for `stop()`, in ms. */
  readonly drainTimeoutMs: number;
}

/** Per-actor measurements an actor reports as it works. */
export interface ActorMetrics {
  /** One successful store took `seconds`. */
  observeStore(actorId: string, seconds: number): void;
  /** An event was stored `seconds` after the actor accepted it (queue, retries and store). */
  observeEventLatency?(actorId: string, seconds: number): void;
  /** `bytes` were written to archive files. */
  recordWrite(actorId: string, bytes: number): void;
}

/** Metadata of one received sample. */
export interface SampleInfo {
  /** The concrete Zenoh key. */
  readonly key: string;
  /** Receive time, ms since the epoch. */
  readonly receivedAt: number;
  /** The bytes as received (kept for dead-letter records; decoded arrays are views into it). */
  readonly raw: Uint8Array;
  /** `raw` has a buffer of its own that may be released once the event is done (see `Sample.owned`). */
  readonly owned?: boolean;
  /** Keeps the sample counted against the bus's receive budget until the returned function is called (see `Sample.hold`); only during `receive`. */
  readonly hold?: () => () => void;
}

/** Base class of every actor. */
export abstract class EventObserver<O extends EventObserverOptions = EventObserverOptions> {
  static readonly [ACTOR_BRAND] = true;

  /** Options a manifest may give; subclasses extend this (`{...Base.optionsSchema, …}`). */
  static readonly optionsSchema: OptionsSchema = {
    object_selector: { type: 'string', required: true, nonEmpty: true, doc: 'Which HEROs to observe: a HERO name, `*` for all, or a Zenoh key-expression fragment.' },
    event_name: { type: 'string', required: true, nonEmpty: true, doc: 'Name of the HERO event (the `@event` method).' },
    realm: { type: 'string', nonEmpty: true, doc: "HEROS realm to subscribe in. Default: the daemon's `--realm` (`heros`)." },
  };

  /** The manifest `_id`. */
  readonly id: string;
  /** Validated, frozen options. */
  readonly options: O;
  /** The realm actually used. */
  readonly realm: string;
  /** The key expression subscribed to. */
  readonly keyExpr: string;
  protected readonly context: ActorContext;
  protected readonly logger: Logger;
  #subscription: Subscription | undefined;
  #stopping: Promise<void> | undefined;
  #started = false;
  /** The key of the last sample and the source it named. */
  #lastKey: string | undefined;
  #lastSource = '';

  constructor(options: O, context: ActorContext) {
    this.options = options;
    this.context = context;
    this.id = context.id;
    this.logger = context.logger;
    this.realm = options.realm ?? context.realm;
    this.keyExpr = eventKeyExpr(this.realm, options.object_selector, options.event_name);
  }

  /** Subscribes to the event. Called once by the supervisor. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.onStart();
    this.#subscription = await this.context.bus.subscribe(this.keyExpr, (sample) => this.#onSample(sample));
    this.logger.info({ keyExpr: this.keyExpr }, 'subscribed');
  }

  /** Unsubscribes, then lets the subclass finish its work (`onStop`). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(): Promise<void> {
    // Every step runs even when an earlier one fails; the first failure is re-thrown at the end.
    let failure: unknown;
    try {
      await this.#subscription?.close();
    } catch (err) {
      failure ??= err;
    }
    this.#subscription = undefined;
    try {
      await this.onStop();
    } catch (err) {
      failure ??= err;
    }
    if (failure !== undefined) throw failure;
  }

  #onSample(sample: Sample): void {
    // Runs inside the bus callback: must never throw and must return quickly.
    // An observer's samples come from few keys (one per HERO): the last one's source is kept.
    let source = this.#lastSource;
    if (sample.key !== this.#lastKey) {
      source = sourceFromKey(sample.key, this.realm, this.options.event_name) ?? sample.key;
      this.#lastKey = sample.key;
      this.#lastSource = source;
    }
    const info: SampleInfo = { key: sample.key, receivedAt: sample.receivedAt, raw: sample.payload, owned: sample.owned === true, hold: sample.hold };
    let value: PyValue;
    try {
      value = decodeHeros(sample.payload);
    } catch (err) {
      this.#safely(() => this.onUndecodable(source, info, err instanceof ArchiverError ? err : new ArchiverError('ARCHIVER_DECODE_FAILED', String(err), { actorId: this.id, cause: err })));
      return;
    }
    this.#safely(() => this.receive(source, value, info));
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error({ err }, 'event handler threw');
    }
  }

  /** Called before subscribing; open resources here. */
  protected async onStart(): Promise<void> {}

  /** Called after unsubscribing; drain and close here. */
  protected async onStop(): Promise<void> {}

  /**
   * Handles one decoded event from HERO `source`. Synchronous on purpose: it runs in the
   * bus callback, which cannot be slowed down.
   */
  protected abstract receive(source: string, value: PyValue, sample: SampleInfo): void;

  /** Handles bytes that are not valid HEROS CBOR. Default: log. */
  protected onUndecodable(source: string, sample: SampleInfo, error: ArchiverError): void {
    this.logger.error({ source, key: sample.key, code: error.code, err: error }, 'undecodable event');
  }
}

/** True when `value` is an actor class (an EventObserver subclass, from any copy of this package). */
export function isActorClass(value: unknown): value is ActorClass {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[ACTOR_BRAND] === true;
}

/** An actor class as the registry sees it. */
export interface ActorClass {
  new (options: never, context: ActorContext): EventObserver;
  readonly optionsSchema: OptionsSchema;
  readonly name: string;
}
