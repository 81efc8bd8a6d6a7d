/**
 * The message bus as actors see it: subscribe to a key expression and receive raw samples.
 * Three implementations: `MemoryBus` (in-process, for tests and embedding), `ZenohBus`
 * (zenoh-ts through `zenoh-bridge-remote-api`) and `NativeZenohBus` (an in-process Zenoh
 * session, native.ts). Kept deliberately narrow so that the actors
 * never see Zenoh types.
 */

/** One received message. */
export interface Sample {
  /** The concrete key the sample was published on (`@object/heros/cam1/frame`). */
  readonly key: string;
  /** The payload bytes; may be a view into a larger buffer, valid only during the callback
   *  unless copied. */
  readonly payload: Uint8Array;
  /** Receive time, milliseconds since the Unix epoch. */
  readonly receivedAt: number;
  /**
   * True when `payload` spans a buffer of its own that no one else is given: the receiver may
   * release that memory at once when done (`ArrayBuffer.prototype.transfer(0)`) instead of
   * waiting for the garbage collector. Absent or false: leave the buffer alone.
   */
  readonly owned?: boolean;
  /**
   * Present when the bus counts received samples against a receive budget until the receiver
   * is done with them (NativeZenohBus): call it during the callback to keep this sample counted
   * after the callback returns, until the function it returns is called (once the event is
   * stored or given up). Without a call, the sample stops counting when the callback returns.
   * Calling the returned function again does nothing.
   */
  readonly hold?: () => () => void;
}

/**
 * Called synchronously for each sample. Must not throw and must return quickly: decode,
 * enqueue, return (Zenoh cannot be slowed down).
 */
export type SampleHandler = (sample: Sample) => void;

/** A live subscription. `close()` is idempotent. */
export interface Subscription {
  /** The key expression subscribed to. */
  readonly keyExpr: string;
  close(): Promise<void>;
}

/** A query received by a queryable (a Zenoh `get` from another peer). */
export interface Query {
  /** The key expression the querier asked for (`@object/heros/cam1/_discover/**`). */
  readonly key: string;
  /** The query's payload, if it carried one; valid only until the handler returns or settles. */
  readonly payload: Uint8Array | undefined;
}

/**
 * Answers one query: the bytes to reply with (on the queryable's own key), or undefined for no
 * reply. Throwing a {@link QueryReplyError} sends an error reply with its payload; any other
 * throw is logged and the query ends without a reply. Every query is finalised either way, so
 * that the querier does not wait for its timeout.
 */
export type QueryHandler = (query: Query) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/** Thrown by a {@link QueryHandler} to answer with an error reply (Zenoh `reply_err`). */
export class QueryReplyError extends Error {
  /** The error reply's payload (for HEROS: the CBOR of a message string). */
  readonly payload: Uint8Array;
  constructor(message: string, payload: Uint8Array) {
    super(message);
    this.name = 'QueryReplyError';
    this.payload = payload;
  }
}

/** Settings of a queryable. */
export interface QueryableOptions {
  /** Encoding announced with every reply and error reply, e.g. `application/cbor`. @default the bus's default (none) */
  encoding?: string;
}

/** A declaration (queryable or liveliness token) that lasts until closed; `close()` is idempotent. */
export interface Declaration {
  /** The key expression declared. */
  readonly keyExpr: string;
  close(): Promise<void>;
}

/** Bus state changes, for logs, metrics and health. */
export type BusEvent =
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string }
  | { type: 'reconnected'; gapMs: number };

/** What actors need from a bus. */
export interface Bus {
  /** Subscribes; samples are delivered to `handler` until the subscription is closed.
   *  Survives reconnects: an implementation re-declares its subscriptions by itself. */
  subscribe(keyExpr: string, handler: SampleHandler): Promise<Subscription>;
  /** Publishes bytes on a key (used by tools, tests and replay). */
  put(key: string, payload: Uint8Array): Promise<void>;
  /**
   * Answers queries on `keyExpr` with `handler` until closed. Survives reconnects like
   * subscriptions do.
   */
  declareQueryable(keyExpr: string, handler: QueryHandler, options?: QueryableOptions): Promise<Declaration>;
  /**
   * Declares a liveliness token on `key`: peers watching it see it appear now, and vanish when
   * it is closed or this process loses the network. Survives reconnects (it reappears).
   */
  declareLivelinessToken(key: string): Promise<Declaration>;
  /** Registers a listener for state changes; returns a function that removes it. */
  onEvent(listener: (event: BusEvent) => void): () => void;
  /**
   * Stops (true) or resumes (false) taking samples in, for backpressure: while paused, samples
   * wait outside this process (in the network or the bridge). Optional; idempotent.
   */
  setReceivePaused?(paused: boolean): void;
  /** Releases every resource; idempotent. */
  close(): Promise<void>;
}
