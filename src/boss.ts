/**
 * Boss: the supervisor. It turns manifest entries into running actors, the way BOSS does for
 * Python HEROs, but in one process and with isolation between actors.
 *
 *   manifests ─► parseManifests ─► prepareActors: resolve classname, validate arguments,
 *   (manifest.ts)                   construct (templates compile) ── all problems at once
 *                                          │
 *                                          ▼
 *                  Boss.start(): actor.start() in manifest order, each with a timeout;
 *                                an actor that fails is reported, the others run on
 *                  Boss.stop():  actor.stop() in reverse order (each drains its queue)
 *                  Boss.reload(): new manifest set ─► stop removed, stop+start changed,
 *                                 start added; unchanged actors are not touched
 *
 *   bus (memory or Zenoh) ──samples──► actor (EventObserver) ──files──► archive root
 *                                           └─ failures ──► dead-letter folder
 */
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Bus } from './bus/bus.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { MemoryBus } from './bus/memory.js';
import { DeadLetterStore } from './dead-letter.js';
import { ArchiverError, ConfigError, type ConfigProblem } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import { argumentsPath, type ManifestEntry } from './manifest.js';
import type { ActorClass, ActorContext, ActorMetrics, EventObserver } from './observer.js';
import { validateOptions } from './options.js';
import { resolveActorClass } from './registry.js';
import type { ArchiverHealth, ArchiverStats } from './archiver.js';

/** Supervisor settings. */
export interface BossOptions {
  /** Where events come from. */
  bus: Bus;
  /** Root logger; each actor gets a child with `{actor: _id}`. @default silent */
  logger?: Logger;
  /** HEROS realm for actors that do not name one. @default "heros" */
  realm?: string;
  /** Folder every archived file must be inside. @default "/" (anywhere, as herostools) */
  root?: string;
  /** Folder relative rendered paths resolve from. @default process.cwd() */
  baseDir?: string;
  /** State folder: the disk spools live in `<stateDir>/spool/<actor>`. @default "<cwd>/.heros-archiver" */
  stateDir?: string;
  /** Dead-letter folder. @default "<stateDir>/dead-letter" */
  deadLetterDir?: string;
  /** Budget for one actor's `start()`, ms. @default 30000 */
  startTimeoutMs?: number;
  /** Budget for one actor's drain on stop, ms. @default 30000 */
  drainTimeoutMs?: number;
  /** Where actors report store latencies and bytes written. @default none */
  metrics?: ActorMetrics;
  /** First delay before restarting an actor that failed to start, ms; doubles per failure. @default 1000 */
  restartDelayMs?: number;
  /** Longest delay between restarts, ms. @default 60000 */
  restartMaxDelayMs?: number;
}

/** State of one actor. */
export type ActorState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopping' | 'stopped';

/** One actor as `status()` reports it. */
export interface ActorStatus {
  id: string;
  classname: string;
  state: ActorState;
  /** Why it failed, when it did. */
  error?: { code: string; message: string };
  /** Counters, for archivers. */
  stats?: ArchiverStats;
  /** Storage health, for archivers. */
  health?: ArchiverHealth;
}

/** A manifest entry whose class and options have been checked. */
export interface PreparedActor {
  readonly entry: ManifestEntry;
  readonly cls: ActorClass;
  readonly options: Readonly<Record<string, unknown>>;
}

interface Slot {
  prepared: PreparedActor;
  actor: EventObserver | undefined;
  state: ActorState;
  error: ArchiverError | undefined;
  /** Consecutive start failures. */
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** Taken out by a reload: a start still under way must not leave it running. */
  retired: boolean;
}

/** Start settings. */
export interface StartOptions {
  /**
   * Start the actors now. When false they are prepared and listed by `status()` as `stopped`,
   * and {@link Boss.startActor} starts them (BOSS's `--no-autostart`). @default true
   */
  autostart?: boolean;
}

/** What {@link Boss.reload} did, by actor `_id`, each list in manifest order. */
export interface ReloadResult {
  /** New in the manifests: started. */
  added: string[];
  /** Gone from the manifests: stopped (drained). */
  removed: string[];
  /** Another classname or other arguments: the old one stopped (drained), the new one started. */
  changed: string[];
  /** Same definition: left running, never unsubscribed. */
  unchanged: string[];
}

/**
 * Resolves every entry's class, validates its arguments and constructs it once without a bus
 * (constructors do no I/O), so that everything checkable is checked. Throws one
 * {@link ConfigError} listing every problem.
 */
export async function prepareActors(entries: readonly ManifestEntry[]): Promise<PreparedActor[]> {
  const problems: ConfigProblem[] = [];
  const prepared: PreparedActor[] = [];
  const probeBus = new MemoryBus();
  for (const entry of entries) {
    const where = argumentsPath(entry);
    let cls: ActorClass;
    try {
      cls = await resolveActorClass(entry.classname, entry.origin.baseDir, entry.id);
    } catch (err) {
      const e = err as ArchiverError;
      problems.push({ code: e.code ?? 'ARCHIVER_CLASS_NOT_FOUND', path: `${entry.origin.source}${entry.origin.pointer}.classname`, message: e.message, actorId: entry.id });
      continue;
    }
    for (const [key, value] of Object.entries(entry.arguments)) {
      // BOSS conventions we cannot honour: "$name" (a RemoteHERO) and "@_boss_loop".
      if (typeof value === 'string' && (value === '@_boss_loop' || /^\$[A-Za-z_]/.test(value))) {
        problems.push({
          code: 'ARCHIVER_OPTIONS_INVALID',
          path: `${where}.${key}`,
          message: `"${value}" is a BOSS reference (${value.startsWith('$') ? 'a RemoteHERO' : 'the event loop'}); archivers take no such argument`,
          actorId: entry.id,
        });
      }
    }
    const { options, problems: optionProblems } = validateOptions(cls.optionsSchema, entry.arguments, where, entry.id);
    problems.push(...optionProblems);
    try {
      // Constructed even when some options are wrong, so that e.g. a template that does not
      // compile is reported together with an unknown key, not after it is fixed.
      new cls(options as never, probeContext(entry, probeBus));
    } catch (err) {
      const reported = new Set(optionProblems.map((p) => p.path));
      const found = constructionProblems(err, entry, where).filter((p) => !reported.has(p.path));
      // With invalid options a constructor may fail for that reason alone; keep only coded problems then.
      problems.push(...(optionProblems.length > 0 ? found.filter(() => err instanceof ArchiverError) : found));
      continue;
    }
    if (optionProblems.length === 0) prepared.push(Object.freeze({ entry, cls, options }));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return prepared;
}

function constructionProblems(err: unknown, entry: ManifestEntry, where: string): ConfigProblem[] {
  if (err instanceof ConfigError) {
    return err.problems.map((p) => ({ ...p, path: p.path.startsWith(where) ? p.path : `${where}.${p.path}`, actorId: entry.id }));
  }
  if (err instanceof ArchiverError) {
    return [{ code: err.code, path: err.path ? `${where}.${err.path}` : where, message: err.message, actorId: entry.id }];
  }
  return [{ code: 'ARCHIVER_OPTIONS_INVALID', path: where, message: `constructor failed: ${(err as Error)?.message ?? String(err)}`, actorId: entry.id }];
}

function probeContext(entry: ManifestEntry, bus: Bus): ActorContext {
  return {
    id: entry.id,
    classname: entry.classname,
    bus,
    logger: silentLogger(),
    realm: 'heros',
    root: '/',
    baseDir: process.cwd(),
    deadLetters: new DeadLetterStore(path.join(process.cwd(), '.heros-archiver', 'dead-letter')),
    spoolDir: path.join(process.cwd(), '.heros-archiver', 'spool'),
    drainTimeoutMs: 0,
  };
}

/** Runs a set of actors. */
export class Boss {
  readonly #options: Required<Omit<BossOptions, 'logger' | 'metrics'>> & { logger: Logger };
  readonly #metrics: ActorMetrics | undefined;
  readonly #slots: Slot[] = [];
  readonly #deadLetters: DeadLetterStore;
  #stopping: Promise<void> | undefined;
  #autostart = true;
  /** The reload under way: reloads run one at a time, and stop() waits for it. */
  #reloading: Promise<unknown> = Promise.resolve();
  /** Backpressure: the bus is paused while an actor's spool is a budget behind (see #watchPressure). */
  #pressureTimer: NodeJS.Timeout | undefined;
  #pausedSince: number | undefined;
  #pausedMs = 0;
  #pauses = 0;
  #lastPauseLog = -Infinity;

  constructor(options: BossOptions) {
    this.#metrics = options.metrics;
    const cwd = process.cwd();
    this.#options = {
      bus: options.bus,
      logger: options.logger ?? silentLogger(),
      realm: options.realm ?? 'heros',
      root: path.resolve(options.root ?? '/'),
      baseDir: path.resolve(options.baseDir ?? cwd),
      stateDir: path.resolve(options.stateDir ?? path.join(cwd, '.heros-archiver')),
      deadLetterDir: path.resolve(options.deadLetterDir ?? path.join(options.stateDir ?? path.join(cwd, '.heros-archiver'), 'dead-letter')),
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      restartDelayMs: options.restartDelayMs ?? 1_000,
      restartMaxDelayMs: options.restartMaxDelayMs ?? 60_000,
    };
    this.#deadLetters = new DeadLetterStore(this.#options.deadLetterDir);
  }

  /** The dead-letter folder all actors share (one sub-folder per actor). */
  get deadLetters(): DeadLetterStore {
    return this.#deadLetters;
  }

  /**
   * Starts prepared actors in manifest order. An actor that fails to construct or start is
   * logged (`ARCHIVER_ACTOR_START_FAILED`) and reported by `status()`; the others run.
   * Resolves with the number of actors running.
   */
  async start(prepared: readonly PreparedActor[], options: StartOptions = {}): Promise<number> {
    this.#autostart = options.autostart ?? true;
    if (this.#options.bus.setReceivePaused !== undefined && this.#pressureTimer === undefined) {
      this.#pressureTimer = setInterval(() => this.#watchPressure(), PRESSURE_CHECK_MS);
      this.#pressureTimer.unref();
    }
    for (const p of prepared) {
      const slot = newSlot(p);
      this.#slots.push(slot);
      if (this.#autostart) await this.#startSlot(slot);
    }
    return this.#slots.filter((s) => s.state === 'running').length;
  }

  /**
   * Starts the actor `id` when it is stopped or failed (after `autostart: false`, or a reload).
   * Resolves with its state afterwards.
   * @throws ArchiverError `ARCHIVER_USAGE` when no actor has that `_id`
   */
  async startActor(id: string): Promise<ActorState> {
    const slot = this.#slots.find((s) => s.prepared.entry.id === id);
    if (!slot) throw new ArchiverError('ARCHIVER_USAGE', `no actor "${id}"`, { actorId: id });
    if ((slot.state === 'stopped' || slot.state === 'failed') && !this.#stopping) await this.#startSlot(slot);
    return slot.state;
  }

  /**
   * Stops the actor `id` (draining its queue); it stays listed as `stopped` until
   * {@link startActor}. Resolves with its state afterwards.
   * @throws ArchiverError `ARCHIVER_USAGE` when no actor has that `_id`
   */
  async stopActor(id: string): Promise<ActorState> {
    const slot = this.#slots.find((s) => s.prepared.entry.id === id);
    if (!slot) throw new ArchiverError('ARCHIVER_USAGE', `no actor "${id}"`, { actorId: id });
    await this.#stopSlot(slot, 'operator');
    return slot.state;
  }

  /** Starts every stopped or failed actor, in manifest order (BOSS's `start_all`). */
  async startAll(): Promise<void> {
    for (const slot of [...this.#slots]) {
      if (this.#stopping) return;
      if (slot.state === 'stopped' || slot.state === 'failed') await this.#startSlot(slot);
    }
  }

  /** Stops (drains) every running actor, in reverse order; they stay listed (BOSS's `stop_all`). */
  async stopAll(): Promise<void> {
    for (const slot of [...this.#slots].reverse()) {
      if (slot.state === 'running' || slot.state === 'restarting') await this.#stopSlot(slot, 'operator');
    }
  }

  /**
   * Applies a new set of prepared actors (a re-read manifest) without a restart:
   * removed actors are stopped (each drains its queue), changed ones (another classname or other
   * arguments) are stopped and then started with the new definition — the disk spool under the
   * same `_id` hands over whatever the old one had not stored — and added ones are started.
   * Unchanged actors keep running as the same object with the same subscription, so they lose
   * no event. Reloads run one at a time; after {@link stop} a reload does nothing.
   */
  reload(prepared: readonly PreparedActor[]): Promise<ReloadResult> {
    const next = this.#reloading.then(() => this.#reload(prepared));
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  async #reload(prepared: readonly PreparedActor[]): Promise<ReloadResult> {
    const result: ReloadResult = { added: [], removed: [], changed: [], unchanged: [] };
    if (this.#stopping) return result;
    const current = new Map(this.#slots.map((s) => [s.prepared.entry.id, s]));
    const wanted = new Set(prepared.map((p) => p.entry.id));
    const nextSlots: Slot[] = [];
    const toStart: Slot[] = [];
    const toStop: Slot[] = [];
    for (const p of prepared) {
      const old = current.get(p.entry.id);
      if (old && sameDefinition(old.prepared, p)) {
        // The new entry may sit elsewhere in the manifests; status() and restarts use it.
        old.prepared = p;
        nextSlots.push(old);
        result.unchanged.push(p.entry.id);
        continue;
      }
      if (old) {
        toStop.push(old);
        result.changed.push(p.entry.id);
      } else {
        result.added.push(p.entry.id);
      }
      const slot = newSlot(p);
      nextSlots.push(slot);
      toStart.push(slot);
    }
    for (const s of this.#slots) {
      if (!wanted.has(s.prepared.entry.id)) {
        toStop.push(s);
        result.removed.push(s.prepared.entry.id);
      }
    }
    // Reverse start order, as stop() does; a changed actor's spool must be released before its
    // successor opens it, so every stop completes before any start.
    const order = new Map(this.#slots.map((s, i) => [s, i]));
    toStop.sort((a, b) => (order.get(b) ?? 0) - (order.get(a) ?? 0));
    for (const slot of toStop) await this.#stopSlot(slot, 'reload');
    this.#slots.splice(0, this.#slots.length, ...nextSlots);
    if (this.#autostart) {
      for (const slot of toStart) {
        if (this.#stopping) break;
        await this.#startSlot(slot);
      }
    }
    this.#options.logger.info(result, 'reloaded');
    return result;
  }

  async #stopSlot(slot: Slot, why: 'reload' | 'stop' | 'operator'): Promise<void> {
    if (why === 'reload') slot.retired = true;
    if (slot.restartTimer !== undefined) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      slot.state = why === 'stop' ? 'failed' : 'stopped';
    }
    if (!slot.actor || slot.state === 'stopped') return;
    const wasRunning = slot.state === 'running';
    slot.state = 'stopping';
    try {
      await slot.actor.stop();
    } catch (err) {
      this.#options.logger.error({ actor: slot.prepared.entry.id, err }, 'actor failed to stop cleanly');
    }
    slot.state = 'stopped';
    if (wasRunning) this.#options.logger.info({ actor: slot.prepared.entry.id, ...(why === 'stop' ? {} : { reason: why }) }, 'actor stopped');
  }

  async #startSlot(slot: Slot): Promise<void> {
    const p = slot.prepared;
    const context = this.#context(p.entry);
    slot.state = 'starting';
    try {
      slot.actor = new p.cls(p.options as never, context);
      await withTimeout(slot.actor.start(), this.#options.startTimeoutMs, `start of actor "${p.entry.id}"`);
      slot.state = 'running';
      slot.error = undefined;
      if (this.#stopping || slot.retired) {
        // Stop (or a reload that removed it) began while this (re)start was under way: it must
        // not outlive the supervisor.
        await slot.actor.stop().catch(() => undefined);
        slot.state = 'stopped';
        return;
      }
      context.logger.info({ classname: p.entry.classname, ...(slot.failures > 0 ? { afterFailures: slot.failures } : {}) }, 'actor started');
    } catch (err) {
      slot.failures++;
      slot.error = new ArchiverError('ARCHIVER_ACTOR_START_FAILED', `actor "${p.entry.id}" failed to start: ${(err as Error)?.message ?? String(err)}`, {
        actorId: p.entry.id,
        classname: p.entry.classname,
        cause: err,
      });
      await slot.actor?.stop().catch(() => undefined);
      slot.actor = undefined;
      if (this.#stopping || slot.retired) {
        slot.state = 'failed';
        return;
      }
      // Restart with backoff: a device share that is not mounted yet, a plugin waiting for a
      // service — the others run meanwhile, and this one joins when it can.
      const delay = backoffDelay(slot.failures, { ...DEFAULT_BACKOFF, initialMs: this.#options.restartDelayMs, maxMs: this.#options.restartMaxDelayMs });
      slot.state = 'restarting';
      this.#options.logger.error({ actor: p.entry.id, code: slot.error.code, failures: slot.failures, restartInMs: delay, err }, 'actor failed to start; restarting later');
      slot.restartTimer = setTimeout(() => {
        slot.restartTimer = undefined;
        void this.#startSlot(slot);
      }, delay);
    }
  }

  /** Stops every actor in reverse start order, each draining its queue. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #stop(): Promise<void> {
    // A reload half done would leave actors it has not yet stopped or started out of #slots.
    await this.#reloading;
    for (const slot of this.#slots) {
      if (slot.restartTimer !== undefined) {
        clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
        slot.state = 'failed';
      }
    }
    for (const slot of [...this.#slots].reverse()) await this.#stopSlot(slot, 'stop');
    clearInterval(this.#pressureTimer);
    this.#pressureTimer = undefined;
    this.#watchPressure();
  }

  /**
   * Bounded memory under bursts. Beyond its memory budget an actor spills events to its disk
   * spool, but what the spool has not written yet waits in memory: when the disk takes events
   * slower than they arrive, that grows without bound. So while any actor has more than its
   * `memory_budget_bytes` appended and not yet written, the bus stops reading from the network
   * (the events wait in the bridge); it reads again once every actor is under half of it.
   */
  #watchPressure(): void {
    let worst = 0;
    let who: string | undefined;
    for (const slot of this.#slots) {
      const p = pressureOf(slot.actor);
      if (p > worst) {
        worst = p;
        who = slot.prepared.entry.id;
      }
    }
    const now = Date.now();
    if (this.#pausedSince === undefined && worst >= 1) {
      this.#pausedSince = now;
      this.#pauses++;
      this.#options.bus.setReceivePaused?.(true);
      // Under a long overload pauses come and go every few ms: one line per 10 s says it all.
      if (now - this.#lastPauseLog >= PAUSE_LOG_INTERVAL_MS) {
        this.#lastPauseLog = now;
        this.#options.logger.warn(
          { actor: who, pressure: Number(worst.toFixed(2)), pauses: this.#pauses, pausedSeconds: Number((this.#pausedMs / 1000).toFixed(3)) },
          'receiving paused: the spool of this actor is a memory budget behind (the disk is slower than the events arrive); events wait in the bridge meanwhile',
        );
      }
    } else if (this.#pausedSince !== undefined && (worst <= 0.5 || this.#stopping)) {
      const ms = now - this.#pausedSince;
      this.#pausedMs += ms;
      this.#pausedSince = undefined;
      this.#options.bus.setReceivePaused?.(false);
      this.#options.logger.debug({ pausedMs: ms }, 'receiving resumed');
    }
  }

  /** Backpressure so far: whether receiving is paused now, how often and how long it was. */
  receiveStatus(): { paused: boolean; pauses: number; pausedSeconds: number } {
    const current = this.#pausedSince === undefined ? 0 : Date.now() - this.#pausedSince;
    return { paused: this.#pausedSince !== undefined, pauses: this.#pauses, pausedSeconds: (this.#pausedMs + current) / 1000 };
  }

  /** State and counters of every actor. */
  status(): ActorStatus[] {
    return this.#slots.map((s) => ({
      id: s.prepared.entry.id,
      classname: s.prepared.entry.classname,
      state: s.state,
      ...(s.error ? { error: { code: s.error.code, message: s.error.message } } : {}),
      ...(hasStats(s.actor) ? { stats: s.actor.stats() } : {}),
      ...(hasHealth(s.actor) ? { health: s.actor.health() } : {}),
    }));
  }

  /** The running actor with `_id` `id`, if any. */
  actor(id: string): EventObserver | undefined {
    return this.#slots.find((s) => s.prepared.entry.id === id)?.actor;
  }

  #context(entry: ManifestEntry): ActorContext {
    return {
      id: entry.id,
      classname: entry.classname,
      bus: this.#options.bus,
      logger: this.#options.logger.child({ actor: entry.id }),
      realm: this.#options.realm,
      root: this.#options.root,
      baseDir: this.#options.baseDir,
      deadLetters: this.#deadLetters,
      spoolDir: path.join(this.#options.stateDir, 'spool'),
      ...(this.#metrics ? { metrics: this.#metrics } : {}),
      drainTimeoutMs: this.#options.drainTimeoutMs,
    };
  }
}

function newSlot(prepared: PreparedActor): Slot {
  return { prepared, actor: undefined, state: 'stopped', error: undefined, failures: 0, restartTimer: undefined, retired: false };
}

/**
 * Whether a re-read entry defines the same actor. Compared on what the manifest says
 * (classname and arguments, with Python floats and key order as parsed) and on the resolved
 * class, so that a relative module path now pointing elsewhere counts as a change.
 */
function sameDefinition(a: PreparedActor, b: PreparedActor): boolean {
  return a.cls === b.cls && a.entry.classname === b.entry.classname && isDeepStrictEqual(a.entry.arguments, b.entry.arguments);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How often the actors' spool backlog is looked at (see Boss#watchPressure). */
const PRESSURE_CHECK_MS = 10;
const PAUSE_LOG_INTERVAL_MS = 10_000;

function pressureOf(actor: EventObserver | undefined): number {
  const f = (actor as { receivePressure?: unknown } | undefined)?.receivePressure;
  if (typeof f !== 'function') return 0;
  const p: unknown = f.call(actor);
  return typeof p === 'number' && Number.isFinite(p) ? p : 0;
}

// Duck-typed: an archiver class from another copy of this package is not `instanceof` ours.
function hasStats(actor: EventObserver | undefined): actor is EventObserver & { stats(): ArchiverStats } {
  return typeof (actor as { stats?: unknown } | undefined)?.stats === 'function';
}

function hasHealth(actor: EventObserver | undefined): actor is EventObserver & { health(): ArchiverHealth } {
  return typeof (actor as { health?: unknown } | undefined)?.health === 'function';
}
