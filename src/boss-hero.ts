/**
 * The daemon and its actors as HEROs (`--expose`), as BOSS shows itself and its HEROs:
 *
 *   Python RemoteHERO(<name>) ──query──▶ daemon HERO ──▶ BossControl (start/stop/status/refresh)
 *   HEROObserver (_health, _discover) ──▶ one HERO per running actor (named by its `_id`)
 *
 * The daemon HERO answers BOSSRemote's methods with BOSSRemote's return values: `status()` the
 * `{name: {"config", "object", "status"}}` dict of `BOSS.heros`, the others `None`. An actor's
 * HERO exists while the actor runs, as a BOSS worker's HERO exists while its process runs.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Bus } from './bus/bus.js';
import { exposeHero, type ExposedHero, type HeroMethod } from './heros/hero-server.js';
import { PyFloat, type PyValue } from './heros/values.js';

/** One actor as {@link BossControl.status} lists it (`Boss.status()` items fit). */
export interface BossActorView {
  readonly id: string;
  readonly classname: string;
  /** `starting`, `running`, `restarting`, `failed`, `stopping` or `stopped`. */
  readonly state: string;
  readonly error?: { readonly code: string; readonly message: string } | undefined;
  /** Counters (`ArchiverStats`), for `stats()`. */
  readonly stats?: object | undefined;
  /**
   * The manifest entry as written (`_id`, `classname`, `arguments`, `tags`, …), for the
   * `config` of `status()`. @default `{_id, classname}`
   */
  readonly config?: Readonly<Record<string, unknown>> | undefined;
}

/** What the daemon HERO needs from the supervisor; every method may be called concurrently. */
export interface BossControl {
  /** Every actor of the loaded manifests, in manifest order. */
  status(): readonly BossActorView[];
  /** Starts the actor (no-op when it runs). Rejects with a message for an unknown `_id`. */
  startActor(id: string): Promise<unknown>;
  /** Stops (drains) the actor; it stays listed as `stopped`. No-op when it is not running. */
  stopActor(id: string): Promise<unknown>;
  /** Starts every actor that is not running. */
  startAll(): Promise<unknown>;
  /** Stops every running actor; they stay listed. */
  stopAll(): Promise<unknown>;
  /**
   * Re-reads the manifest sources and applies them as a reload does (SIGHUP): new entries
   * start when `autoStart`, changed ones restart if they were running, removed ones stop.
   */
  refresh(options: { autoStart: boolean }): Promise<unknown>;
}

/** Settings of {@link exposeBoss}. */
export interface ExposeBossOptions {
  /** The daemon HERO's name (`--name`). */
  name: string;
  /** @default 'heros' */
  realm?: string;
  /** `class` of the daemon HERO, as BOSS's exposed object reports it. @default 'boss.boss.BOSSRemote_HERO' */
  className?: string;
  /** Versions for the `_pkg_versions:` tag. @default {} */
  pkgVersions?: Readonly<Record<string, string>>;
  /** How often actor HEROs are brought in line with the actors' states, in ms. @default 1000 */
  syncIntervalMs?: number;
  /** Told about actor HEROs that could not be declared or withdrawn (the next sync retries). */
  onError?: (err: unknown, actorId: string) => void;
}

/** The exposed daemon; `close()` withdraws every HERO and is idempotent. */
export interface ExposedBoss {
  /** Brings the actor HEROs in line with the actors now (also done after every call and on a timer). */
  sync(): Promise<void>;
  /** Names of the actor HEROs currently exposed. */
  readonly actorHeros: readonly string[];
  close(): Promise<void>;
}

/**
 * A name unique in the realm, as BOSS's `create_unique_instance_name`: `<hostname>_<8 hex>`.
 * The default of `--name` when exposing.
 */
export function uniqueInstanceName(): string {
  return `${hostname()}_${randomUUID().split('-')[0]}`;
}

/** `generate_tags`: BOSS tags each HERO it runs with its own name. */
export function bossTag(bossName: string): string {
  return `BOSS: ${bossName}`;
}

/** The status word BOSS uses for an actor state (BOSS knows only these three). */
export function bossStatusWord(state: string): 'running' | 'stopped' | 'failed' {
  switch (state) {
    case 'starting':
    case 'running':
    // Still archiving while it drains, as a BOSS worker is "running" until its process joined.
    case 'stopping':
      return 'running';
    // Failed and waiting for the next attempt: BOSS would show the dead worker as failed.
    case 'restarting':
    case 'failed':
      return 'failed';
    default:
      return 'stopped';
  }
}

/** `BOSS.heros` as `BOSSRemote.status()` returns it, plus `state`, `error` and `stats` of ours. */
export function bossStatusDict(actors: readonly BossActorView[], bossName: string): Map<PyValue, PyValue> {
  const out = new Map<PyValue, PyValue>();
  for (const a of actors) {
    const config = { ...(a.config ?? { _id: a.id, classname: a.classname }) };
    const tags = Array.isArray(config.tags) ? [...(config.tags as unknown[])] : [];
    config.tags = [...tags, bossTag(bossName)];
    const entry: Record<string, PyValue> = { config: toPyValue(config), object: null, status: bossStatusWord(a.state), state: a.state };
    if (a.error) entry.error = { code: a.error.code, message: a.error.message };
    if (a.stats) entry.stats = toPyValue(a.stats);
    out.set(a.id, entry);
  }
  return out;
}

/**
 * Exposes the daemon HERO `options.name` with BOSSRemote's methods, and one HERO per running
 * actor with `stats()`.
 */
export async function exposeBoss(bus: Bus, control: BossControl, options: ExposeBossOptions): Promise<ExposedBoss> {
  const realm = options.realm ?? 'heros';
  const bossName = options.name;
  const pkgVersions = options.pkgVersions ?? {};
  const actors = new Map<string, Promise<ExposedHero | undefined>>();
  let closed = false;
  let syncing: Promise<void> = Promise.resolve();

  const known = (id: string): void => {
    if (!control.status().some((a) => a.id === id)) {
      const names = control.status().map((a) => `'${a.id}'`);
      throw new Error(`HERO with name ${id} not run by this BOSS. Available HEROs are dict_keys([${names.join(', ')}])`);
    }
  };
  /** Runs a control call, then syncs the actor HEROs so the caller sees the result at once. */
  const then = async (work: Promise<unknown>): Promise<PyValue> => {
    await work;
    await sync();
    return null;
  };

  const methods: Record<string, HeroMethod> = {
    status: { call: () => bossStatusDict(control.status(), bossName) },
    start_hero: {
      params: [{ name: 'name' }],
      call: (_a, _k, bound) => {
        const id = String(bound.name);
        known(id);
        return then(control.startActor(id));
      },
    },
    stop_hero: {
      params: [{ name: 'name' }],
      call: (_a, _k, bound) => {
        const id = String(bound.name);
        known(id);
        return then(control.stopActor(id));
      },
    },
    start_all: { call: () => then(control.startAll()) },
    stop_all: { call: () => then(control.stopAll()) },
    refresh_hero_sources: {
      params: [{ name: 'auto_start', type: 'bool', default: true }],
      call: (_a, _k, bound) => then(control.refresh({ autoStart: bound.auto_start !== false && bound.auto_start !== null })),
    },
  };

  const syncOnce = async (): Promise<void> => {
    const running = new Map<string, BossActorView>();
    for (const a of control.status()) if (a.state === 'running') running.set(a.id, a);
    if (closed) running.clear();
    for (const [id, pending] of actors) {
      if (running.has(id)) continue;
      actors.delete(id);
      const hero = await pending;
      await hero?.close().catch((err: unknown) => options.onError?.(err, id));
    }
    for (const [id, view] of running) {
      if (actors.has(id)) continue;
      const pending = exposeActorHero(bus, view, { realm, bossName, pkgVersions, control }).catch((err: unknown) => {
        options.onError?.(err, id);
        actors.delete(id);
        return undefined;
      });
      actors.set(id, pending);
      await pending;
    }
  };
  // One sync at a time: a start and a stop racing must not leave a HERO behind.
  const sync = (): Promise<void> => {
    syncing = syncing.then(syncOnce, syncOnce);
    return syncing;
  };

  const daemon = await exposeHero(bus, {
    name: bossName,
    realm,
    className: options.className ?? 'boss.boss.BOSSRemote_HERO',
    methods,
    tags: [bossTag(bossName)],
    pkgVersions,
  });
  await sync();
  const timer = setInterval(() => void sync(), options.syncIntervalMs ?? 1000);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    sync,
    get actorHeros() {
      return [...actors.keys()];
    },
    close: () =>
      (closing ??= (async () => {
        closed = true;
        clearInterval(timer);
        await sync();
        await daemon.close();
      })()),
  };
}

async function exposeActorHero(
  bus: Bus,
  view: BossActorView,
  ctx: { realm: string; bossName: string; pkgVersions: Readonly<Record<string, string>>; control: BossControl },
): Promise<ExposedHero> {
  const id = view.id;
  const manifestTags = Array.isArray(view.config?.tags) ? (view.config.tags as unknown[]).map(String) : [];
  return exposeHero(bus, {
    name: id,
    realm: ctx.realm,
    // BOSS builds `<classname>_HERO` from the manifest's classname.
    className: `${view.classname}_HERO`,
    tags: [...manifestTags, bossTag(ctx.bossName)],
    pkgVersions: ctx.pkgVersions,
    methods: {
      stats: {
        returns: 'dict',
        call: () => {
          const now = ctx.control.status().find((a) => a.id === id);
          return toPyValue(now?.stats ?? {});
        },
      },
    },
  });
}

/**
 * Data from JSON-like sources as a HEROS value: whole numbers stay ints, `PyFloat` stays a
 * float, anything outside the value model becomes its string.
 */
function toPyValue(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new PyFloat(v);
  if (v instanceof PyFloat || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map(toPyValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [toPyValue(k), toPyValue(x)]));
  if (v instanceof Set) return new Set([...v].map(toPyValue));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, PyValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPyValue(x);
    return out;
  }
  return String(v);
}
