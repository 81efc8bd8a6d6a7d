/**
 * The message bus as actors see it: subscribe to a key expression and receive raw samples.
 * Two implementations: `MemoryBus` (in-process, for tests and embedding) and `ZenohBus`
 * (zenoh-ts through `zenoh-bridge-remote-api`). Kept deliberately narrow so that the actors
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
  /** Registers a listener for state changes; returns a function that removes it. */
  onEvent(listener: (event: BusEvent) => void): () => void;
  /** Releases every resource; idempotent. */
  close(): Promise<void>;
}
