/**
 * NativeZenohBus: the {@link Bus} on an in-process Zenoh session (Zenoh's Rust library in a
 * Node-API addon built from native/), without zenoh-bridge-remote-api:
 *
 *   HEROS peers ──Zenoh (tcp, scouting)──▶ Zenoh session in this process ──Sample──▶ handler
 *
 * Each sample crosses one thread boundary and one copy (out of Zenoh's receive buffers into a
 * buffer of its own, handed to JavaScript without a second copy). There is no WebSocket hop
 * and no bridge process: the daemon is a Zenoh peer like the Python HEROS peers, and Zenoh
 * itself reconnects lost peers and re-announces declarations.
 *
 * Flow control: received samples count against {@link NativeZenohBusOptions.maxQueuedBytes}
 * and {@link NativeZenohBusOptions.maxQueuedSamples} from their arrival until the handler is done
 * with them: until it returns, or, when it holds the sample ({@link Sample.hold}: archivers do,
 * until the event is stored), until it lets go. So the memory of events in the daemon's hands
 * stays within the budget, whatever the disk does. Beyond it, and while receiving is paused, they
 * go to a spill file in {@link NativeZenohBusOptions.spillFolder} (unlinked at once, so nothing
 * is left behind) and are handed on in arrival order once there is room. Zenoh's receive task
 * is not held: held beyond Zenoh's lease (10 s) it would cost the link to the sender and what
 * is in flight on it. When the file reaches `spillLimitBytes` (its size: space read back is
 * given back when it empties), or cannot be written (reported as `ARCHIVER_BUS_FAILED`),
 * samples wait, holding the receive task, and never overtake spilled ones.
 *
 * The addon is built by scripts/setup-native.sh (cargo, cached outside the clone) and found at
 * `.tools/native/heros-archiver-zenoh.node` in the package, or at `HEROS_ARCHIVER_ZENOH_ADDON`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArchiverError, describeCause } from '../errors.js';
import { QueryReplyError, type Bus, type BusEvent, type Declaration, type QueryableOptions, type QueryHandler, type SampleHandler, type Subscription } from './bus.js';
import { silentBusLogger, type BusLogger } from './bus-logger.js';

/** The addon's surface (native/src/lib.rs). Ids are positive whole numbers. */
interface NativeSession {
  spilledBytes(): number;
  spilledTotal(): number;
  takeSpillError(): string | null;
  open(configFile: string | null, keys: string[], values: string[]): Promise<number>;
  zid(): string;
  connected(): Promise<number>;
  subscribe(key: string, callback: (key: string, payload: Buffer, isDelete: boolean, receivedAt: number, cost: number) => void): Promise<number>;
  unsubscribe(id: number): Promise<number>;
  declareQueryable(key: string, callback: (queryId: number, key: string, payload: Buffer | null) => void): Promise<number>;
  undeclareQueryable(id: number): Promise<number>;
  reply(queryId: number, key: string, payload: Buffer, encoding: string | null): Promise<number>;
  replyErr(queryId: number, payload: Buffer, encoding: string | null): Promise<number>;
  finalizeQuery(queryId: number): Promise<number>;
  declareToken(key: string): Promise<number>;
  undeclareToken(id: number): Promise<number>;
  put(key: string, payload: Buffer, encoding: string | null, block?: boolean): Promise<number>;
  setPaused(paused: boolean): void;
  queuedBytes(): number;
  queuedSamples(): number;
  release(bytes: number, samples: number): void;
  close(): Promise<number>;
}

interface Addon {
  NativeSession: new (maxQueuedBytes: number, spillFolder: string | null, spillLimitBytes: number, maxQueuedSamples: number) => NativeSession;
}

/** File name of the built addon under `.tools/native/`. */
export const NATIVE_ADDON_FILE = 'heros-archiver-zenoh.node';

/** Settings of a {@link NativeZenohBus}. */
export interface NativeZenohBusOptions {
  /** Zenoh session mode. @default "peer" (what HEROS peers use) */
  mode?: 'peer' | 'client';
  /** Zenoh endpoints to listen on. @default Zenoh's peer default (a free TCP port on every interface) */
  listen?: readonly string[];
  /** Zenoh endpoints to connect to. @default none */
  connect?: readonly string[];
  /** Zenoh JSON5 configuration file, read first; the other options override it. */
  configFile?: string;
  /** UDP multicast scouting, as HEROS peers use; false turns it off. @default Zenoh's (on) */
  multicastScouting?: boolean;
  /** Extra settings `KEY:VALUE`, VALUE in JSON5 (`transport/link/tx/queue/congestion_control/drop/wait_before_drop:10000`). */
  cfg?: readonly string[];
  /**
   * Bytes of received samples that may be in the daemon's hands (waiting for the JavaScript
   * thread, or held by a handler) before the rest is spilled. A sample bigger than this passes
   * alone. @default 32 MiB
   */
  maxQueuedBytes?: number;
  /** Received samples that may be in the daemon's hands (as `maxQueuedBytes`). @default 2048 */
  maxQueuedSamples?: number;
  /**
   * A sample held longer than this stops counting against the budgets (a handler that never
   * lets go must not stop receiving); logged. @default 30000
   */
  holdLimitMs?: number;
  /** Folder of the spill file (created when needed). @default the system's temporary folder */
  spillFolder?: string;
  /** Largest spill file, in bytes; beyond it samples wait for room, holding Zenoh's receive task. @default 4 GiB */
  spillLimitBytes?: number;
  /** Where declarations and failures go. @default silent */
  logger?: BusLogger;
  /** Path of the addon. @default `HEROS_ARCHIVER_ZENOH_ADDON`, else `.tools/native/heros-archiver-zenoh.node` in the package */
  addonPath?: string;
}

/** Default of {@link NativeZenohBusOptions.maxQueuedBytes}. */
export const DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** Default of {@link NativeZenohBusOptions.maxQueuedSamples}. */
export const DEFAULT_MAX_QUEUED_SAMPLES = 2048;
/** Default of {@link NativeZenohBusOptions.holdLimitMs}. */
export const DEFAULT_HOLD_LIMIT_MS = 30_000;
/** Default of {@link NativeZenohBusOptions.spillLimitBytes}. */
export const DEFAULT_SPILL_LIMIT_BYTES = 4 * 1024 * 1024 * 1024;

/** Where the addon is looked for when no path is given. */
export function defaultAddonPath(): string {
  const fromEnv = process.env.HEROS_ARCHIVER_ZENOH_ADDON;
  if (fromEnv) return fromEnv;
  // src/bus/native.ts or dist/src/bus/native.js: the package root is the nearest folder up with package.json.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(path.join(dir, 'package.json')); i++) dir = path.dirname(dir);
  return path.join(dir, '.tools', 'native', NATIVE_ADDON_FILE);
}

function loadAddon(file: string): Addon {
  if (!existsSync(file)) {
    throw new ArchiverError('ARCHIVER_BUS_FAILED', `the in-process Zenoh transport (--bus native) is not built: ${file} does not exist; build it with "bash scripts/setup-native.sh" (needs cargo)`, {
      retryable: false,
    });
  }
  try {
    return createRequire(import.meta.url)(file) as Addon;
  } catch (err) {
    throw new ArchiverError('ARCHIVER_BUS_FAILED', `loading the in-process Zenoh transport from ${file} failed: ${errorMessage(err)}; rebuild it with "bash scripts/setup-native.sh"`, {
      retryable: false,
      cause: err,
    });
  }
}

/** Zenoh settings (key, JSON5 value) from the options, applied after the configuration file. */
export function nativeSettings(options: NativeZenohBusOptions): [string, string][] {
  const settings: [string, string][] = [];
  if (options.mode !== undefined || options.configFile === undefined) settings.push(['mode', JSON.stringify(options.mode ?? 'peer')]);
  if (options.listen?.length) settings.push(['listen/endpoints', JSON.stringify(options.listen)]);
  if (options.connect?.length) settings.push(['connect/endpoints', JSON.stringify(options.connect)]);
  if (options.multicastScouting === false) settings.push(['scouting/multicast/enabled', 'false']);
  for (const entry of options.cfg ?? []) {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new ArchiverError('ARCHIVER_USAGE', `Zenoh setting "${entry}": expected KEY:VALUE (VALUE in JSON5)`, { retryable: false });
    settings.push([entry.slice(0, colon), entry.slice(colon + 1)]);
  }
  return settings;
}

type NativeBusState = 'idle' | 'connecting' | 'connected' | 'closed';

/** A {@link Bus} on an in-process Zenoh session. */
export class NativeZenohBus implements Bus {
  readonly #options: NativeZenohBusOptions;
  readonly #logger: BusLogger;
  #native: NativeSession | undefined;
  #state: NativeBusState = 'idle';
  #startPromise: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  readonly #listeners = new Set<(event: BusEvent) => void>();
  #paused = false;
  /**
   * Watches the spill file each second, and keeps the event loop alive while the session is
   * open, as an open socket would: Zenoh's threads and the addon's callbacks do not, and a
   * daemon with nothing else pending (no HTTP endpoint) would otherwise find its loop empty and
   * stop taking samples.
   */
  #keepAlive: NodeJS.Timeout | undefined;
  /** Whether the spill file was non-empty when last looked at. */
  #spilling = false;
  /** Samples held by handlers, oldest first: id → cost and when handed over. */
  readonly #holds = new Map<number, { cost: number; at: number }>();
  #nextHold = 0;
  /** Samples whose hold outlived `holdLimitMs`. */
  #expiredHolds = 0;

  constructor(options: NativeZenohBusOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentBusLogger;
  }

  /** Creates a bus and resolves once its session is open. */
  static async open(options: NativeZenohBusOptions = {}): Promise<NativeZenohBus> {
    const bus = new NativeZenohBus(options);
    await bus.start();
    return bus;
  }

  /** Opens the session. Idempotent. @throws ArchiverError `ARCHIVER_BUS_FAILED` (addon missing, bad configuration), `ARCHIVER_USAGE` (bad `cfg`) */
  start(): Promise<void> {
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  /** `connected` once open, `closed` after close. */
  get state(): NativeBusState {
    return this.#state;
  }

  /** This session's Zenoh id (hex), once open. */
  get zid(): string | undefined {
    return this.#state === 'connected' ? this.#native?.zid() : undefined;
  }

  /** How many Zenoh peers and routers the session is connected to right now. */
  async connectedCount(): Promise<number> {
    return this.#state === 'connected' && this.#native ? this.#native.connected() : 0;
  }

  async subscribe(keyExpr: string, handler: SampleHandler): Promise<Subscription> {
    const native = this.#session(`subscribe to ${keyExpr}`);
    let closed = false;
    const id = await this.#call(
      () =>
        native.subscribe(keyExpr, (key, payload, isDelete, receivedAt, cost) => {
          // HEROS never deletes; a DELETE has no payload an archiver could store.
          if (closed || isDelete) {
            if (isDelete && !closed) this.#logger.debug({ key }, 'ignoring a Zenoh DELETE sample');
            native.release(cost, 1);
            return;
          }
          let held = false;
          const hold = (): (() => void) => {
            if (held) return noop;
            held = true;
            return this.#hold(native, cost);
          };
          try {
            // The addon gives every sample a buffer of its own (offset 0, whole buffer).
            handler({ key, payload, receivedAt, owned: true, hold });
          } catch (err) {
            this.#logger.error({ keyExpr, err: describeCause(err) }, 'a sample handler threw; handlers must catch their own errors');
          }
          if (!held) {
            held = true;
            native.release(cost, 1);
          }
        }),
      `subscribing to ${keyExpr}`,
    );
    return { keyExpr, close: this.#closer(keyExpr, 'subscriber', () => native.unsubscribe(id), () => (closed = true)) };
  }

  async declareQueryable(keyExpr: string, handler: QueryHandler, options: QueryableOptions = {}): Promise<Declaration> {
    const native = this.#session(`declare a queryable on ${keyExpr}`);
    const encoding = options.encoding ?? null;
    let closed = false;
    const answer = async (queryId: number, key: string, payload: Buffer | null): Promise<void> => {
      try {
        let reply: Uint8Array | undefined;
        let errorReply: Uint8Array | undefined;
        try {
          reply = closed ? undefined : await handler({ key, payload: payload ?? undefined });
        } catch (err) {
          if (err instanceof QueryReplyError) errorReply = err.payload;
          else this.#logger.error({ keyExpr, err: describeCause(err) }, 'a query handler threw; the query ends without a reply');
        }
        // Replies go on the queryable's own key, as HEROS's LocalHERO replies on its endpoint.
        if (reply !== undefined) await native.reply(queryId, keyExpr, asBuffer(reply), encoding);
        else if (errorReply !== undefined) await native.replyErr(queryId, asBuffer(errorReply), encoding);
      } catch (err) {
        this.#logger.debug({ keyExpr, err: describeCause(err) }, 'replying to a query failed');
      } finally {
        await native.finalizeQuery(queryId).catch((err: unknown) => this.#logger.debug({ keyExpr, err: describeCause(err) }, 'finalising a query failed'));
      }
    };
    const id = await this.#call(() => native.declareQueryable(keyExpr, (queryId, key, payload) => void answer(queryId, key, payload)), `declaring a queryable on ${keyExpr}`);
    return { keyExpr, close: this.#closer(keyExpr, 'queryable', () => native.undeclareQueryable(id), () => (closed = true)) };
  }

  async declareLivelinessToken(key: string): Promise<Declaration> {
    const native = this.#session(`declare a liveliness token on ${key}`);
    const id = await this.#call(() => native.declareToken(key), `declaring a liveliness token on ${key}`);
    return { keyExpr: key, close: this.#closer(key, 'liveliness token', () => native.undeclareToken(id)) };
  }

  /** Publishes `payload` on `key`. @throws ArchiverError `ARCHIVER_BUS_FAILED` */
  async put(key: string, payload: Uint8Array): Promise<void> {
    const native = this.#session(`publish on ${key}`);
    await this.#call(() => native.put(key, asBuffer(payload), null), `publishing on ${key}`);
  }

  onEvent(listener: (event: BusEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Stops (true) or resumes (false) taking samples from Zenoh: while paused, samples wait in the
   * network and in the senders (see the module comment). Idempotent.
   */
  setReceivePaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    this.#native?.setPaused(paused);
  }

  /** Whether receiving is paused. */
  get receivePaused(): boolean {
    return this.#paused;
  }

  /** Bytes received and not yet released by a handler (the spill file not counted). */
  get queuedBytes(): number {
    return this.#native?.queuedBytes() ?? 0;
  }

  /** Samples received and not yet released by a handler (the spill file not counted). */
  get queuedSamples(): number {
    return this.#native?.queuedSamples() ?? 0;
  }

  /** Keeps a sample counted until the returned function is called (once), or `holdLimitMs` passes. */
  #hold(native: NativeSession, cost: number): () => void {
    const id = this.#nextHold++;
    this.#holds.set(id, { cost, at: performance.now() });
    return () => {
      if (this.#holds.delete(id)) native.release(cost, 1);
    };
  }

  /** Stops counting holds older than `holdLimitMs`, and says so. */
  #expireHolds(): void {
    const native = this.#native;
    if (!native) return;
    const limit = this.#options.holdLimitMs ?? DEFAULT_HOLD_LIMIT_MS;
    const before = performance.now() - limit;
    let n = 0;
    let bytes = 0;
    // Oldest first (a Map keeps insertion order): stop at the first young one.
    for (const [id, h] of this.#holds) {
      if (h.at > before) break;
      this.#holds.delete(id);
      n++;
      bytes += h.cost;
    }
    if (n === 0) return;
    native.release(bytes, n);
    this.#expiredHolds += n;
    this.#logger.warn(
      { samples: n, bytes, total: this.#expiredHolds, holdLimitMs: limit },
      'samples held for longer than the hold limit no longer count against the receive buffer (an actor is slow to store them)',
    );
  }

  /** Bytes waiting in the spill file. */
  get spilledBytes(): number {
    return this.#native?.spilledBytes() ?? 0;
  }

  /** Samples that went through the spill file since the session opened. */
  get spilledTotal(): number {
    return this.#native?.spilledTotal() ?? 0;
  }

  /** Logs a failed spill file, and when spilling starts and ends. */
  #watchSpill(): void {
    const native = this.#native;
    if (!native) return;
    const error = native.takeSpillError();
    if (error !== null) {
      const err = new ArchiverError('ARCHIVER_BUS_FAILED', `the receive spill file in ${this.#options.spillFolder ?? os.tmpdir()} failed (${error}); until it works again, samples wait for room and hold Zenoh's receive task`);
      this.#logger.error({ code: err.code, err: err.message }, err.message);
    }
    const bytes = native.spilledBytes();
    if (bytes > 0 && !this.#spilling) {
      this.#spilling = true;
      this.#logger.warn({ spilledBytes: bytes }, 'receiving faster than the daemon takes samples: spilling them to disk, to be handed on in order');
    } else if (bytes === 0 && this.#spilling) {
      this.#logger.info({ spilledTotal: native.spilledTotal() }, 'spill file drained: every spilled sample was handed on');
      this.#spilling = false;
    }
  }

  /** Undeclares everything and closes the session. Idempotent. */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #start(): Promise<void> {
    if (this.#state === 'closed') throw new ArchiverError('ARCHIVER_BUS_FAILED', 'cannot open the Zenoh session: the bus is closed', { retryable: false });
    this.#state = 'connecting';
    const settings = nativeSettings(this.#options);
    const addonPath = this.#options.addonPath ?? defaultAddonPath();
    const addon = loadAddon(addonPath);
    const native = new addon.NativeSession(
      this.#options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
      this.#options.spillFolder ?? os.tmpdir(),
      this.#options.spillLimitBytes ?? DEFAULT_SPILL_LIMIT_BYTES,
      this.#options.maxQueuedSamples ?? DEFAULT_MAX_QUEUED_SAMPLES,
    );
    if (this.#paused) native.setPaused(true);
    try {
      await native.open(
        this.#options.configFile ?? null,
        settings.map(([k]) => k),
        settings.map(([, v]) => v),
      );
    } catch (err) {
      this.#state = 'closed';
      throw new ArchiverError('ARCHIVER_BUS_FAILED', errorMessage(err), { retryable: false, cause: err });
    }
    if (this.#closePromise) {
      await native.close().catch(noop);
      throw new ArchiverError('ARCHIVER_BUS_FAILED', 'the bus was closed while its Zenoh session opened', { retryable: false });
    }
    this.#native = native;
    this.#state = 'connected';
    this.#keepAlive = setInterval(() => {
      this.#watchSpill();
      this.#expireHolds();
    }, 1000);
    this.#logger.info(
      {
        zid: native.zid(),
        settings: Object.fromEntries(settings),
        configFile: this.#options.configFile,
        maxQueuedBytes: this.#options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
        maxQueuedSamples: this.#options.maxQueuedSamples ?? DEFAULT_MAX_QUEUED_SAMPLES,
      },
      'in-process Zenoh session open',
    );
    this.#emit({ type: 'connected' });
  }

  /**
   * The idempotent close() of a declaration: `stop` at once (its callbacks go quiet), then the
   * undeclaration, unless the session is closed (which undeclared everything). Failures are
   * logged, not thrown.
   */
  #closer(keyExpr: string, kind: string, undeclare: () => Promise<number>, stop: () => void = noop): () => Promise<void> {
    let closing: Promise<void> | undefined;
    return () =>
      (closing ??= (async () => {
        stop();
        if (this.#state !== 'connected') return;
        await undeclare().catch((err: unknown) => this.#logger.debug({ keyExpr, err: describeCause(err) }, `undeclaring a ${kind} failed`));
      })());
  }

  #session(what: string): NativeSession {
    if (this.#state !== 'connected' || !this.#native) {
      throw new ArchiverError('ARCHIVER_BUS_FAILED', `cannot ${what}: the Zenoh session is ${this.#state === 'closed' ? 'closed' : 'not open'}`, { retryable: this.#state !== 'closed' });
    }
    return this.#native;
  }

  async #call(run: () => Promise<number>, what: string): Promise<number> {
    try {
      return await run();
    } catch (err) {
      // The addon rejects with Zenoh's own message (invalid key expression, session closed, …).
      throw new ArchiverError('ARCHIVER_BUS_FAILED', `${what} failed: ${errorMessage(err)}`, { retryable: this.#state === 'connected' && !/key ?expr/i.test(errorMessage(err)), cause: err });
    }
  }

  async #close(): Promise<void> {
    await this.#startPromise?.catch(noop);
    const native = this.#native;
    this.#state = 'closed';
    this.#native = undefined;
    this.#holds.clear();
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    if (!native) return;
    try {
      // Queryables first, tokens last: an observer that sees a token vanish queries at once
      // and should find nothing (see hero-server.ts). The addon keeps that order.
      await native.close();
    } catch (err) {
      this.#logger.debug({ err: describeCause(err) }, 'closing the Zenoh session failed');
    }
    this.#logger.info({}, 'in-process Zenoh session closed');
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
}

function noop(): void {}

/** A Buffer over the same bytes (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}
