/**
 * ZenohBus: the {@link Bus} on Eclipse Zenoh, through `zenoh-bridge-remote-api` and zenoh-ts.
 * This is the only module that imports zenoh-ts; it turns that library's sharp edges into the
 * plain contract of `Bus`:
 *
 *   bridge ──WebSocket──▶ zenoh-ts Session ──callback──▶ ZenohBus ──Sample──▶ handler
 *                            ▲        │
 *        probe, open, re-open│        │info() heartbeat, WebSocket close
 *                            └────────┘
 *
 * What zenoh-ts 1.10.1 does not do, and this module does:
 * - `Session.open()` retries for ~34 minutes when nothing listens: the WebSocket is probed
 *   first, with capped backoff between attempts, and `open()` itself gets a timeout.
 * - No disconnect signal and no reconnect: a close listener on the underlying WebSocket and a
 *   serialised `info()` heartbeat detect the loss; the session is then dropped, re-opened and
 *   every live subscription, queryable and liveliness token re-declared (the bridge forgets a
 *   client's declarations when its WebSocket closes). Handles given out stay valid across
 *   reconnects.
 * - A query stays open on the querier's side until the queryable finalises it (it does not end
 *   when the callback returns): every query is finalised here after its reply, also when the
 *   handler fails, so that HEROS callers do not wait for their timeout.
 * - The default subscriber handler (a FIFO of 256) drops silently when full: a callback
 *   handler delivers synchronously instead; the caller queues.
 * - `Session.close()` does not await its inner close, whose rejection would be unhandled: the
 *   inner close is called and its errors are caught here.
 * - A `put` on a closed WebSocket is dropped without an error (the link checks `isOk` without
 *   calling it): `put` checks the socket itself and fails with a coded error.
 * - It logs with `console.*` (partly to stdout, which carries our JSON logs): console output
 *   is routed into the logger while a session opens, which is when zenoh-ts prints.
 *
 * Size limits on the way (measured with bridge 1.10.1, Node 24):
 * - bridge → Node: the bridge writes messages of any size; a WebSocket client refuses messages
 *   above its limit by dropping the connection (Node's built-in one at 128 MiB). The bus gives
 *   zenoh-ts a WebSocket from the `ws` package with the limit {@link ZenohBusOptions.maxMessageBytes};
 *   unlike Node's built-in one it can stop reading (backpressure, {@link ZenohBus.setReceivePaused}).
 * - Node → bridge: the bridge refuses WebSocket frames above 16 MiB (tungstenite's default,
 *   not configurable in the bridge) by dropping the connection: `put` rejects such payloads.
 */
import { format } from 'node:util';
import { WebSocket as WsWebSocket } from 'ws';
import { Config, Encoding, KeyExpr, SampleKind, Session, type Query as ZenohQuery, type Sample as ZenohSample, type Subscriber as ZenohSubscriber } from '@eclipse-zenoh/zenoh-ts';
import { backoffDelay, type BackoffOptions } from '../backoff.js';
import { ArchiverError, describeCause } from '../errors.js';
import { QueryReplyError, type Bus, type BusEvent, type Declaration, type QueryableOptions, type QueryHandler, type SampleHandler, type Subscription } from './bus.js';
import { silentBusLogger, type BusLogger } from './bus-logger.js';
import { probeWebSocket } from './ws-probe.js';

/** The bridge's limit for one WebSocket frame from a client (tungstenite `max_frame_size`). */
export const BRIDGE_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Room for the remote-api framing of a put around key and payload (measured: < 250 bytes). */
const PUT_FRAMING_BYTES = 256;
/**
 * Default receive limit: just above the 1 GiB that the bridge's own Zenoh session accepts
 * (`transport/link/rx/max_message_size`), so that the bridge can never hand us a message that
 * Node would refuse; the extra MiB covers key, encoding and framing.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 * 1024 + 1024 * 1024;

/** Connection settings of a {@link ZenohBus}. */
export interface ZenohBusOptions {
  /** The bridge's WebSocket, as a Zenoh locator (`ws/127.0.0.1:10000`) or URL (`ws://…`). */
  url: string;
  /** Timeout of each request to the bridge (declare, undeclare, info), in ms. @default 5000 */
  requestTimeoutMs?: number;
  /** Time between heartbeats, in ms. @default 1000 */
  heartbeatIntervalMs?: number;
  /** How long one heartbeat may take; keep it below the interval. @default 0.8 × heartbeatIntervalMs */
  heartbeatTimeoutMs?: number;
  /**
   * Heartbeats in a row without an answer (and without any sample arriving meanwhile) before
   * the connection is declared lost. A huge sample can hold up the answer on a busy machine;
   * a closed WebSocket is detected at once regardless. @default 3
   */
  heartbeatMisses?: number;
  /** Limit of one connection attempt (probe plus opening the session), in ms. @default 10000 */
  connectTimeoutMs?: number;
  /** Delays between connection attempts. @default { initialMs: 250, maxMs: 5000, factor: 2, jitter: 0.2 } */
  reconnectBackoff?: Partial<BackoffOptions>;
  /**
   * Largest WebSocket message accepted from the bridge, in bytes (a sample plus ~100 bytes of
   * framing). A bigger one makes Node drop the connection: the samples in flight are lost, the
   * bus reconnects and reports `ARCHIVER_BUS_FAILED` through {@link ZenohBus.onError}.
   * @default 1 GiB + 1 MiB (above the bridge's own Zenoh limit of 1 GiB)
   */
  maxMessageBytes?: number;
  /** Where connection attempts, losses and zenoh-ts's console output go. @default silent */
  logger?: BusLogger;
  /** Aborts connecting: `connect()`/`start()` then reject with the signal's reason and the bus is closed. */
  signal?: AbortSignal;
}

/** Connection state of a {@link ZenohBus}. */
export type ZenohBusState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

interface SubEntry {
  readonly keyExpr: string;
  readonly handler: SampleHandler;
  closed: boolean;
  /** The declaration on the current session, if any. */
  zsub: ZenohSubscriber | undefined;
}

/** Something a session declares besides subscribers: a queryable or a liveliness token. */
interface DeclEntry {
  readonly kind: 'queryable' | 'liveliness token';
  readonly keyExpr: string;
  closed: boolean;
  /** The declaration on the current session, if any. */
  handle: { undeclare(): Promise<void> } | undefined;
  /** Declares it on `session`; callbacks it installs ignore queries of older generations. */
  readonly declareOn: (session: Session, generation: number) => Promise<{ undeclare(): Promise<void> }>;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5000, factor: 2, jitter: 0.2 };

/** A {@link Bus} on Zenoh through `zenoh-bridge-remote-api`. */
export class ZenohBus implements Bus {
  readonly #url: string;
  readonly #requestTimeoutMs: number;
  readonly #heartbeatIntervalMs: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #heartbeatMisses: number;
  readonly #connectTimeoutMs: number;
  readonly #backoff: BackoffOptions;
  readonly #maxMessageBytes: number;
  readonly #logger: BusLogger;
  readonly #signal: AbortSignal | undefined;

  #state: ZenohBusState = 'idle';
  #session: Session | undefined;
  #ws: WsWebSocket | undefined;
  /** Receiving is paused for backpressure (see {@link ZenohBus.setReceivePaused}). */
  #paused = false;
  /** Bumped whenever a session is dropped or opened; callbacks of older sessions go quiet. */
  #generation = 0;
  readonly #subs = new Set<SubEntry>();
  readonly #decls = new Set<DeclEntry>();
  readonly #listeners = new Set<(event: BusEvent) => void>();
  readonly #errorListeners = new Set<(error: ArchiverError) => void>();
  readonly #stop = new AbortController();
  #startPromise: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #putChain: Promise<void> = Promise.resolve();
  #lastRxAt = 0;
  #lostAt = 0;
  #lostCloseCode: number | undefined;
  #reconnects = 0;

  constructor(options: ZenohBusOptions) {
    this.#url = options.url;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? Math.max(1, Math.floor(this.#heartbeatIntervalMs * 0.8));
    this.#heartbeatMisses = Math.max(1, options.heartbeatMisses ?? 3);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.reconnectBackoff };
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#logger = options.logger ?? silentBusLogger;
    this.#signal = options.signal;
  }

  /** Creates a bus and resolves once it is connected (retrying while the bridge is absent). */
  static async connect(options: ZenohBusOptions): Promise<ZenohBus> {
    const bus = new ZenohBus(options);
    await bus.start();
    return bus;
  }

  /** Connects, retrying with backoff until it succeeds, the bus is closed or the signal aborts. Idempotent. */
  start(): Promise<void> {
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  /** Current connection state. */
  get state(): ZenohBusState {
    return this.#state;
  }

  /** How many times the connection was lost and re-established. */
  get reconnects(): number {
    return this.#reconnects;
  }

  async subscribe(keyExpr: string, handler: SampleHandler): Promise<Subscription> {
    if (this.#state === 'closed') throw new ArchiverError('ARCHIVER_BUS_FAILED', `cannot subscribe to ${keyExpr}: the bus is closed`, { retryable: false });
    try {
      new KeyExpr(keyExpr);
    } catch (err) {
      throw new ArchiverError('ARCHIVER_BUS_FAILED', `invalid Zenoh key expression "${keyExpr}": ${errorMessage(err)}`, { retryable: false, cause: err });
    }
    const entry: SubEntry = { keyExpr, handler, closed: false, zsub: undefined };
    this.#subs.add(entry);
    const session = this.#session;
    const generation = this.#generation;
    if (this.#state === 'connected' && session) {
      try {
        await this.#declare(entry, session, generation);
      } catch (err) {
        if (generation === this.#generation && !isTimeout(err)) {
          this.#subs.delete(entry);
          throw new ArchiverError('ARCHIVER_BUS_FAILED', `the bridge refused the subscription to ${keyExpr}: ${errorMessage(err)}`, { cause: err });
        }
        // A timeout means the link is in trouble, or it was lost meanwhile: either way the
        // entry stays and is declared when the session re-opens.
        this.#linkLost(generation, `declaring a subscriber on ${keyExpr} timed out`, undefined);
      }
    }
    // Otherwise (connecting or reconnecting) the entry is declared when the session opens.
    let closing: Promise<void> | undefined;
    return {
      keyExpr,
      close: () => {
        closing ??= this.#unsubscribe(entry);
        return closing;
      },
    };
  }

  async declareQueryable(keyExpr: string, handler: QueryHandler, options: QueryableOptions = {}): Promise<Declaration> {
    const encoding = options.encoding;
    return this.#addDecl('queryable', keyExpr, (session, generation) =>
      session.declareQueryable(keyExpr, {
        // Callback, not a channel: zenoh-ts's default FIFO of 256 would drop queries silently.
        handler: (query: ZenohQuery) => this.#answer(keyExpr, generation, query, handler, encoding),
      }),
    );
  }

  async declareLivelinessToken(key: string): Promise<Declaration> {
    return this.#addDecl('liveliness token', key, (session) => session.liveliness().declareToken(key));
  }

  /**
   * Publishes `payload` on `key`. Puts are sent in call order.
   * @throws ArchiverError `ARCHIVER_BUS_FAILED`, not retryable, when the payload exceeds the
   *   bridge's 16 MiB frame limit; retryable when the bus is not connected.
   */
  put(key: string, payload: Uint8Array): Promise<void> {
    const frameBytes = payload.byteLength + Buffer.byteLength(key) + PUT_FRAMING_BYTES;
    if (frameBytes > BRIDGE_MAX_FRAME_BYTES) {
      return Promise.reject(
        new ArchiverError(
          'ARCHIVER_BUS_FAILED',
          `cannot publish ${payload.byteLength} bytes on ${key}: the bridge accepts WebSocket frames of at most ${BRIDGE_MAX_FRAME_BYTES} bytes (16 MiB, fixed in zenoh-bridge-remote-api) and drops the connection on bigger ones; publish large data from a Zenoh peer instead`,
          { retryable: false },
        ),
      );
    }
    const run = async (): Promise<void> => {
      const session = this.#session;
      const ws = this.#ws;
      if (this.#state !== 'connected' || !session || (ws && ws.readyState !== WebSocket.OPEN)) {
        throw new ArchiverError('ARCHIVER_BUS_FAILED', `cannot publish on ${key}: not connected to the Zenoh bridge at ${this.#url} (${this.#state})`, {
          retryable: !this.#isClosed(),
        });
      }
      try {
        await session.put(key, payload);
      } catch (err) {
        throw new ArchiverError('ARCHIVER_BUS_FAILED', `publishing on ${key} failed: ${errorMessage(err)}`, { cause: err });
      }
    };
    const result = this.#putChain.then(run, run);
    this.#putChain = result.then(noop, noop);
    return result;
  }

  onEvent(listener: (event: BusEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Registers a listener for problems that do not stop the bus but lose data, such as a
   * message above `maxMessageBytes`; returns a function that removes it.
   */
  onError(listener: (error: ArchiverError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ── queryables and liveliness tokens ──────────────────────────────────────────────────

  async #addDecl(kind: DeclEntry['kind'], keyExpr: string, declareOn: DeclEntry['declareOn']): Promise<Declaration> {
    if (this.#state === 'closed') throw new ArchiverError('ARCHIVER_BUS_FAILED', `cannot declare a ${kind} on ${keyExpr}: the bus is closed`, { retryable: false });
    try {
      new KeyExpr(keyExpr);
    } catch (err) {
      throw new ArchiverError('ARCHIVER_BUS_FAILED', `invalid Zenoh key expression "${keyExpr}": ${errorMessage(err)}`, { retryable: false, cause: err });
    }
    const entry: DeclEntry = { kind, keyExpr, closed: false, handle: undefined, declareOn };
    this.#decls.add(entry);
    const session = this.#session;
    const generation = this.#generation;
    if (this.#state === 'connected' && session) {
      try {
        await this.#declareEntry(entry, session, generation);
      } catch (err) {
        if (generation === this.#generation && !isTimeout(err)) {
          this.#decls.delete(entry);
          throw new ArchiverError('ARCHIVER_BUS_FAILED', `the bridge refused the ${kind} on ${keyExpr}: ${errorMessage(err)}`, { cause: err });
        }
        // As for subscriptions: the entry stays and is declared when the session re-opens.
        this.#linkLost(generation, `declaring a ${kind} on ${keyExpr} timed out`, undefined);
      }
    }
    let closing: Promise<void> | undefined;
    return {
      keyExpr,
      close: () => {
        closing ??= this.#undeclareEntry(entry);
        return closing;
      },
    };
  }

  async #declareEntry(entry: DeclEntry, session: Session, generation: number): Promise<void> {
    const handle = await entry.declareOn(session, generation);
    if (entry.closed || generation !== this.#generation) {
      handle.undeclare().catch(noop);
      return;
    }
    entry.handle = handle;
  }

  async #undeclareEntry(entry: DeclEntry): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    this.#decls.delete(entry);
    const handle = entry.handle;
    entry.handle = undefined;
    if (handle && this.#state === 'connected') {
      try {
        await handle.undeclare();
      } catch (err) {
        this.#logger.debug({ keyExpr: entry.keyExpr, err: describeCause(err) }, `undeclaring a ${entry.kind} failed`);
      }
    }
  }

  /** Runs `handler` for one query, then replies and always finalises. */
  #answer(keyExpr: string, generation: number, query: ZenohQuery, handler: QueryHandler, encoding: string | undefined): void {
    // A query proves the link alive just as a sample does (see the heartbeat).
    this.#lastRxAt = Date.now();
    if (generation !== this.#generation) return;
    const run = async (): Promise<void> => {
      let reply: Uint8Array | undefined;
      let errorReply: Uint8Array | undefined;
      try {
        reply = await handler({ key: query.keyExpr().toString(), payload: query.payload()?.toBytes() });
      } catch (err) {
        if (err instanceof QueryReplyError) errorReply = err.payload;
        else this.#logger.error({ keyExpr, err: describeCause(err) }, 'a query handler threw; the query ends without a reply');
      }
      // The session of this query is gone: its querier gets nothing and times out.
      if (generation !== this.#generation) return;
      try {
        if (reply !== undefined) {
          // Replies go on the queryable's own key, as HEROS's LocalHERO replies on its endpoint.
          await query.reply(keyExpr, reply, encoding ? { encoding } : undefined);
        } else if (errorReply !== undefined) {
          await query.replyErr(errorReply, encoding ? { encoding: Encoding.fromString(encoding) } : undefined);
        }
      } catch (err) {
        this.#logger.debug({ keyExpr, err: describeCause(err) }, 'replying to a query failed');
      } finally {
        await finalizeQuery(query).catch((err: unknown) => this.#logger.debug({ keyExpr, err: describeCause(err) }, 'finalising a query failed'));
      }
    };
    void run();
  }

  // ── connection ────────────────────────────────────────────────────────────────────────

  /** A method, not a field read, so that TypeScript does not narrow it across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  async #start(): Promise<void> {
    const signal = this.#signal;
    if (signal?.aborted) {
      await this.close();
      throw signal.reason;
    }
    const onAbort = (): void => void this.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.#state = 'connecting';
      const connected = await this.#connectLoop();
      if (!connected) {
        if (signal?.aborted) throw signal.reason;
        throw new ArchiverError('ARCHIVER_BUS_FAILED', `the bus was closed before it connected to ${this.#url}`, { retryable: false });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    this.#logger.info({ url: this.#url }, 'connected to the Zenoh bridge');
    this.#emit({ type: 'connected' });
  }

  /** Tries until connected (resolves with the number of attempts) or closed (undefined). */
  async #connectLoop(): Promise<{ attempts: number } | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (this.#isClosed()) return undefined;
      try {
        await this.#openOnce();
        return { attempts: attempt };
      } catch (err) {
        if (this.#isClosed()) return undefined;
        const delayMs = backoffDelay(attempt, this.#backoff);
        this.#logger.warn(
          { url: this.#url, attempt, delayMs, err: describeCause(err) },
          `Zenoh bridge at ${this.#url} not reachable (attempt ${attempt}: ${errorMessage(err)}); next attempt in ${delayMs} ms`,
        );
        await sleep(delayMs, this.#stop.signal);
      }
    }
  }

  async #openOnce(): Promise<void> {
    await probeWebSocket(this.#url, this.#connectTimeoutMs);
    const session = await this.#openSession();
    if (this.#isClosed()) {
      void closeSessionQuietly(session, this.#logger);
      throw new Error('closed while connecting');
    }
    const generation = ++this.#generation;
    const ws = linkSocket(session);
    try {
      // Entries added while this loop awaits are visited too (Set iteration sees them).
      for (const entry of this.#subs) {
        if (!entry.closed) await this.#declare(entry, session, generation);
      }
      // Queryables before tokens: whoever sees a token appear may query at once.
      for (const kind of ['queryable', 'liveliness token'] as const) {
        for (const entry of this.#decls) {
          if (!entry.closed && entry.kind === kind) await this.#declareEntry(entry, session, generation);
        }
      }
    } catch (err) {
      void closeSessionQuietly(session, this.#logger);
      throw err;
    }
    if (this.#isClosed() || generation !== this.#generation) {
      void closeSessionQuietly(session, this.#logger);
      throw new Error('closed while connecting');
    }
    this.#session = session;
    this.#ws = ws;
    this.#state = 'connected';
    if (this.#paused) ws?.pause();
    if (ws) {
      // zenoh-ts's own handlers only print to the console; ours notice the loss at once.
      ws.onerror = null;
      ws.onclose = null;
      // `ws` emits 'error' (a message above the limit, a broken frame) before it closes: without
      // a listener that would be an uncaught exception. The close that follows is what counts.
      ws.on('error', (err) => this.#logger.debug({ url: this.#url, err: describeCause(err) }, 'WebSocket error'));
      ws.addEventListener('close', (ev) => this.#linkLost(generation, `the WebSocket to the bridge closed (code ${ev.code})`, ev.code));
    }
    void this.#heartbeat(session, generation);
  }

  async #openSession(): Promise<Session> {
    const restoreConsole = redirectConsole(this.#logger);
    const sized = busWebSocketClass(this.#maxMessageBytes);
    let pending: Promise<Session>;
    const original = globalThis.WebSocket;
    // zenoh-ts creates its socket with the global constructor, synchronously inside open():
    // swapping the global for that moment gives it our message limit, and nothing else sees it.
    globalThis.WebSocket = sized as unknown as typeof WebSocket;
    try {
      pending = Session.open(new Config(this.#url, this.#requestTimeoutMs));
    } finally {
      globalThis.WebSocket = original;
    }
    try {
      const session = await withTimeout(pending, this.#connectTimeoutMs, `opening a session on ${this.#url}`);
      if (!(linkSocket(session) instanceof sized)) {
        // zenoh-ts retried with a socket of its own (Node's, without our limit): try again.
        void closeSessionQuietly(session, this.#logger);
        throw new Error('zenoh-ts opened its WebSocket on an internal retry, without the message size limit');
      }
      return session;
    } catch (err) {
      // open() keeps retrying in the background for up to ~34 minutes; close what it may open.
      pending.then((late) => closeSessionQuietly(late, this.#logger), noop);
      throw err;
    } finally {
      restoreConsole();
    }
  }

  /**
   * Stops (true) or resumes (false) reading samples from the bridge. While paused nothing is
   * read from the WebSocket: samples wait in the kernel's socket buffers and then in the bridge
   * process, not in this one, and the heartbeat does not count the silence as a lost bridge.
   * A connection made while paused starts paused. Idempotent.
   */
  setReceivePaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    if (paused) this.#ws?.pause();
    else this.#ws?.resume();
  }

  /** Whether receiving is paused (see {@link ZenohBus.setReceivePaused}). */
  get receivePaused(): boolean {
    return this.#paused;
  }

  async #declare(entry: SubEntry, session: Session, generation: number): Promise<void> {
    const zsub = await session.declareSubscriber(entry.keyExpr, {
      handler: (sample: ZenohSample) => this.#deliver(entry, generation, sample),
    });
    if (entry.closed || generation !== this.#generation) {
      zsub.undeclare().catch(noop);
      return;
    }
    entry.zsub = zsub;
  }

  #deliver(entry: SubEntry, generation: number, sample: ZenohSample): void {
    const receivedAt = Date.now();
    this.#lastRxAt = receivedAt;
    if (entry.closed || generation !== this.#generation) return;
    // HEROS never deletes; a DELETE has no payload an archiver could store.
    if (sample.kind() === SampleKind.DELETE) {
      this.#logger.debug({ key: sample.keyexpr().toString() }, 'ignoring a Zenoh DELETE sample');
      return;
    }
    try {
      // toBytes() is the array zenoh-ts already copied out of the WebSocket message (its own
      // buffer, offset 0): handing it on costs no second copy.
      const payload = sample.payload().toBytes();
      // zenoh-ts copies each sample's payload into a buffer of its own (one per subscriber).
      const owned = payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength;
      entry.handler({ key: sample.keyexpr().toString(), payload, receivedAt, owned });
    } catch (err) {
      this.#logger.error({ keyExpr: entry.keyExpr, err: describeCause(err) }, 'a sample handler threw; handlers must catch their own errors');
    }
  }

  async #unsubscribe(entry: SubEntry): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    this.#subs.delete(entry);
    const zsub = entry.zsub;
    entry.zsub = undefined;
    if (zsub && this.#state === 'connected') {
      try {
        await zsub.undeclare();
      } catch (err) {
        // The bridge forgets a client's declarations with its connection; nothing is left behind.
        this.#logger.debug({ keyExpr: entry.keyExpr, err: describeCause(err) }, 'undeclaring a subscriber failed');
      }
    }
  }

  /** One `info()` at a time; the loop ends when its session is dropped. */
  async #heartbeat(session: Session, generation: number): Promise<void> {
    let misses = 0;
    while (this.#generation === generation && this.#state === 'connected') {
      await sleep(this.#heartbeatIntervalMs, this.#stop.signal);
      if (this.#generation !== generation || this.#state !== 'connected') return;
      if (this.#paused) {
        // Nothing is read while paused, so no answer can arrive: not a sign of a lost bridge.
        misses = 0;
        continue;
      }
      const sentAt = Date.now();
      const answered = await withTimeout(session.info(), this.#heartbeatTimeoutMs, 'heartbeat').then(
        () => true,
        () => false,
      );
      if (this.#generation !== generation || this.#state !== 'connected') return;
      // Samples arriving meanwhile prove the link alive: the answer queues behind them. A pause
      // that began meanwhile can hold the answer back too.
      if (answered || this.#lastRxAt >= sentAt || this.#paused) {
        misses = 0;
        continue;
      }
      misses++;
      this.#logger.debug({ url: this.#url, misses }, 'heartbeat unanswered');
      if (misses >= this.#heartbeatMisses) {
        this.#linkLost(generation, `the bridge did not answer ${misses} heartbeats in a row (timeout ${this.#heartbeatTimeoutMs} ms each)`, undefined);
        return;
      }
    }
  }

  #linkLost(generation: number, reason: string, closeCode: number | undefined): void {
    if (generation !== this.#generation || this.#state !== 'connected') return;
    this.#generation++;
    this.#state = 'reconnecting';
    this.#lostAt = Date.now();
    this.#lostCloseCode = closeCode;
    const session = this.#session;
    this.#session = undefined;
    this.#ws = undefined;
    for (const entry of this.#subs) entry.zsub = undefined;
    for (const entry of this.#decls) entry.handle = undefined;
    if (session) void closeSessionQuietly(session, this.#logger);
    this.#logger.warn({ url: this.#url, reason }, `lost the Zenoh bridge (${reason}); reconnecting`);
    this.#emit({ type: 'disconnected', reason });
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    const result = await this.#connectLoop();
    if (!result) return;
    const gapMs = Date.now() - this.#lostAt;
    this.#reconnects++;
    if (this.#lostCloseCode !== undefined && result.attempts === 1) {
      // The socket broke while the bridge kept listening: Node drops the connection like this
      // when a message exceeds its limit (it reports no reason), and nothing else we know of does.
      this.#reportError(
        new ArchiverError(
          'ARCHIVER_BUS_FAILED',
          `the WebSocket from the Zenoh bridge at ${this.#url} broke (code ${this.#lostCloseCode}) while the bridge kept running; ` +
            `the usual cause is a message above this bus's limit of ${this.#maxMessageBytes} bytes (option maxMessageBytes), ` +
            `which the WebSocket refuses by dropping the connection. Samples in flight during the ${gapMs} ms gap were lost. ` +
            `Raise maxMessageBytes to accept bigger events (the bridge's Zenoh session itself drops messages above transport/link/rx/max_message_size, default 1 GiB).`,
        ),
      );
    }
    this.#logger.info({ url: this.#url, gapMs }, `reconnected to the Zenoh bridge after ${gapMs} ms`);
    this.#emit({ type: 'reconnected', gapMs });
  }

  async #close(): Promise<void> {
    const wasConnected = this.#state === 'connected';
    this.#state = 'closed';
    this.#generation++;
    this.#stop.abort();
    const session = this.#session;
    this.#session = undefined;
    this.#ws = undefined;
    const zsubs: ZenohSubscriber[] = [];
    for (const entry of this.#subs) {
      entry.closed = true;
      if (entry.zsub) zsubs.push(entry.zsub);
      entry.zsub = undefined;
    }
    this.#subs.clear();
    const queryables: { undeclare(): Promise<void> }[] = [];
    const tokens: { undeclare(): Promise<void> }[] = [];
    for (const entry of this.#decls) {
      entry.closed = true;
      if (entry.handle) (entry.kind === 'queryable' ? queryables : tokens).push(entry.handle);
      entry.handle = undefined;
    }
    this.#decls.clear();
    if (wasConnected && zsubs.length + queryables.length + tokens.length > 0) {
      try {
        // Queryables before tokens: an observer that sees a token vanish queries at once and
        // should find nothing (see hero-server.ts).
        const undeclareAll = async (): Promise<void> => {
          await Promise.allSettled([...queryables, ...zsubs].map((z) => z.undeclare()));
          await Promise.allSettled(tokens.map((t) => t.undeclare()));
        };
        await withTimeout(undeclareAll(), Math.min(this.#requestTimeoutMs, 2000), 'undeclaring subscribers');
      } catch (err) {
        this.#logger.debug({ err: describeCause(err) }, 'undeclaring subscribers on close did not finish');
      }
    }
    if (session) await closeSessionQuietly(session, this.#logger, 2000);
    this.#logger.info({ url: this.#url }, 'Zenoh bus closed');
  }

  #emit(event: BusEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#logger.error({ event: event.type, err: describeCause(err) }, 'a bus event listener threw');
      }
    }
  }

  #reportError(error: ArchiverError): void {
    this.#logger.error({ err: error.toJSON() }, error.message);
    for (const listener of this.#errorListeners) {
      try {
        listener(error);
      } catch (err) {
        this.#logger.error({ err: describeCause(err) }, 'a bus error listener threw');
      }
    }
  }
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────

function noop(): void {}

/**
 * The WebSocket class given to zenoh-ts: `ws`'s client with a message limit of `maxPayload`
 * bytes and without compression, in the browser API zenoh-ts uses (`onmessage`, `binaryType`,
 * `readyState`, `bufferedAmount`), and able to pause reading (backpressure). Every instance has an 'error' listener: zenoh-ts's
 * connect-retry loop creates a socket it never gives a handler, and without a listener its
 * 'error' (bridge gone) would be an uncaught exception.
 */
export function busWebSocketClass(maxPayload: number): new (url: string | URL) => WsWebSocket {
  return class BusWebSocket extends WsWebSocket {
    constructor(url: string | URL) {
      super(url, [], { maxPayload, perMessageDeflate: false });
      this.on('error', noop);
    }
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

function isTimeout(err: unknown): boolean {
  return /timeout/i.test(errorMessage(err));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `promise`, or a rejection after `ms`. The original promise's own rejection stays handled. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Finalises a query without an unhandled rejection: `Query.finalize()` starts the send without
 * awaiting it, so the inner send is called (and awaited) directly when it can be reached.
 */
async function finalizeQuery(query: ZenohQuery): Promise<void> {
  const session: unknown = Reflect.get(query, 'session');
  const inner: unknown = Reflect.get(query, 'inner');
  const send: unknown = session && typeof session === 'object' ? Reflect.get(session, 'sendResponseFinal') : undefined;
  const queryId: unknown = inner && typeof inner === 'object' ? Reflect.get(inner, 'queryId') : undefined;
  if (typeof send === 'function' && queryId !== undefined) {
    await send.call(session, queryId);
    return;
  }
  await query.finalize();
}

/** The WebSocket inside a zenoh-ts session (a private field; undefined if that changes). */
function linkSocket(session: Session): WsWebSocket | undefined {
  const inner: unknown = Reflect.get(session, 'inner');
  const link: unknown = inner && typeof inner === 'object' ? Reflect.get(inner, 'link') : undefined;
  const ws: unknown = link && typeof link === 'object' ? Reflect.get(link, 'ws') : undefined;
  return ws instanceof WsWebSocket ? ws : undefined;
}

/**
 * Closes a zenoh-ts session without unhandled rejections: `Session.close()` starts the inner
 * close without awaiting it, so the inner close is called (and caught) directly.
 */
async function closeSessionQuietly(session: Session, logger: BusLogger, waitMs?: number): Promise<void> {
  const inner: unknown = Reflect.get(session, 'inner');
  const innerClose: unknown = inner && typeof inner === 'object' ? Reflect.get(inner, 'close') : undefined;
  let closing: Promise<unknown>;
  try {
    closing = typeof innerClose === 'function' ? Promise.resolve(innerClose.call(inner)) : session.close();
  } catch (err) {
    closing = Promise.reject(err);
  }
  // A dead socket may never finish its close handshake; callers wait a bounded time at most.
  const settled = closing.catch((err: unknown) => logger.debug({ err: describeCause(err) }, 'closing a zenoh-ts session failed'));
  if (waitMs !== undefined) await withTimeout(settled, waitMs, 'closing the session').catch(noop);
}

let consoleDepth = 0;
let savedConsole: Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'> | undefined;

/**
 * Routes `console.*` into `logger.debug` until the returned function is called. zenoh-ts
 * prints while it opens a session ("Connected to …" on stdout, where our JSON log lines go).
 */
function redirectConsole(logger: BusLogger): () => void {
  if (consoleDepth++ === 0) {
    savedConsole = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
    const toLog = (...args: unknown[]): void => logger.debug({ source: 'zenoh-ts' }, format(...args));
    console.log = toLog;
    console.info = toLog;
    console.warn = toLog;
    console.error = toLog;
    console.debug = toLog;
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    if (--consoleDepth === 0 && savedConsole) {
      Object.assign(console, savedConsole);
      savedConsole = undefined;
    }
  };
}
