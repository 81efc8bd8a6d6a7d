/**
 * sd_notify for a Node daemon, without native modules.
 *
 * Node cannot send on an AF_UNIX datagram socket (`net` is stream-only, `dgram` is UDP-only),
 * so each notification is handed to `systemd-notify`, which ships with systemd itself and is
 * therefore present exactly when a `NOTIFY_SOCKET` is:
 *
 *   ready()/status()/watchdog()… ─► serial queue ─► spawn systemd-notify -- READY=1 STATUS=…
 *                                    (one at a time,       │ datagram "READY=1\nSTATUS=…"
 *                                     WATCHDOG=1 coalesced) │ then a BARRIER=1 datagram; it
 *                                                           ▼ exits once systemd has read both
 *                                                        NOTIFY_SOCKET
 *
 * Why this way, measured with systemd 252 and Node 24 on Linux:
 * - The datagram comes from the helper's PID, not ours, so the unit needs `NotifyAccess=all`.
 * - Attribution is race-free from systemd 246 on: the helper waits on a barrier until systemd
 *   has processed the message, so its PID is still in our cgroup when systemd looks it up.
 *   Older systemd can drop the message of an already-exited helper (see docs/operating.md).
 * - Cost: spawning blocks the event loop for 1–5 ms (fork+exec, measured at up to 10 ms with
 *   a 1.2 GB RSS); the call itself completes in 4–9 ms. Notifications are rare (a watchdog ping
 *   every WatchdogSec/2), so this is negligible, and no helper process has to be supervised.
 * - `--pid` is not passed: it adds a `MAINPID=` field, a request to change the main PID.
 * - A long-lived helper (Python, socat) would save the spawns but is one more process to
 *   supervise and a runtime dependency that systemd machines do not all have.
 *
 * Every call is a no-op when `NOTIFY_SOCKET` is unset, and never throws or rejects: a missing
 * tool or a failing call is logged, not fatal — archiving matters more than notifying.
 */
import { spawn } from 'node:child_process';
import type { Logger } from './log.js';

/** Settings of {@link createNotifier}. */
export interface NotifierOptions {
  /** Where `NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID` and `PATH` are read from. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where failures of the tool are logged. @default none */
  logger?: Pick<Logger, 'warn' | 'debug'>;
  /** The sd_notify tool, a path or a name looked up on `PATH`. @default "systemd-notify" */
  command?: string;
  /**
   * A call still running after this many ms is killed and counts as failed. The tool itself
   * gives up on its barrier after 5 s. @default 10000
   */
  timeoutMs?: number;
  /** Our process id, to decide whether `WATCHDOG_PID` means us. @default process.pid */
  pid?: number;
  /**
   * Remove `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `env` after reading them
   * (as sd_notify's `unset_environment`), so that child processes — the managed Zenoh bridge —
   * cannot speak for the service, which `NotifyAccess=all` would otherwise allow. @default false
   */
  unsetEnvironment?: boolean;
  /** CLOCK_MONOTONIC in µs, for `MONOTONIC_USEC`. @default from process.hrtime (libuv reads CLOCK_MONOTONIC) */
  monotonicUsec?: () => bigint;
}

/**
 * Talks to the service manager. Every method resolves with `true` when the message was
 * delivered, `false` when it was not (disabled, tool missing or failing); none rejects.
 */
export interface Notifier {
  /** Whether notifications are sent at all (`NOTIFY_SOCKET` set and the tool not found missing). */
  readonly enabled: boolean;
  /**
   * How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, in ms, as sd_watchdog_enabled(3)
   * recommends. `undefined` when the unit has no `WatchdogSec=` or the watchdog is for another PID.
   */
  readonly watchdogIntervalMs: number | undefined;
  /** `READY=1` (start-up or a reload finished), with an optional `STATUS=`. */
  ready(status?: string): Promise<boolean>;
  /** `STATUS=` — one line shown by `systemctl status`. */
  status(text: string): Promise<boolean>;
  /** `RELOADING=1` with `MONOTONIC_USEC=`; send `ready()` when the reload is done. */
  reloading(status?: string): Promise<boolean>;
  /** `STOPPING=1`, with an optional `STATUS=`. */
  stopping(status?: string): Promise<boolean>;
  /** `WATCHDOG=1`. A ping asked for while another one still waits is merged into it. */
  watchdog(): Promise<boolean>;
  /** Sends what is queued (each call bounded by `timeoutMs`), then turns every method into a no-op. Idempotent. */
  close(): Promise<void>;
}

/** Creates a {@link Notifier} from the environment systemd gives a `Type=notify` service. */
export function createNotifier(options: NotifierOptions = {}): Notifier {
  return new ToolNotifier(options);
}

/** Half of `WATCHDOG_USEC` in ms, or undefined when no watchdog applies to process `pid`. */
export function watchdogIntervalFromEnv(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID names the process the watchdog is for; a child that inherited it is not.
  const forPid = env.WATCHDOG_PID;
  if (forPid !== undefined && forPid !== '' && forPid !== String(pid)) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

const FAILURE_LOG_INTERVAL_MS = 60_000;

class ToolNotifier implements Notifier {
  readonly #socket: string | undefined;
  readonly #childEnv: Record<string, string>;
  readonly #command: string;
  readonly #timeoutMs: number;
  readonly #logger: Pick<Logger, 'warn' | 'debug'> | undefined;
  readonly #monotonicUsec: () => bigint;
  readonly watchdogIntervalMs: number | undefined;

  #toolMissing = false;
  #closed = false;
  #tail: Promise<unknown> = Promise.resolve();
  /** A queued watchdog ping that has not been spawned yet; later pings join it. */
  #pendingPing: Promise<boolean> | undefined;
  #lastFailureLog = -Infinity;
  #suppressedFailures = 0;
  #closing: Promise<void> | undefined;

  constructor(options: NotifierOptions) {
    const env = options.env ?? process.env;
    const socket = env.NOTIFY_SOCKET;
    this.#socket = socket === undefined || socket === '' ? undefined : socket;
    this.watchdogIntervalMs = this.#socket === undefined ? undefined : watchdogIntervalFromEnv(env, options.pid ?? process.pid);
    // A snapshot: the tool needs NOTIFY_SOCKET even after unsetEnvironment removed it from `env`.
    this.#childEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    this.#command = options.command ?? 'systemd-notify';
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#logger = options.logger;
    this.#monotonicUsec = options.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n);
    if (options.unsetEnvironment) {
      const mutable = env as Record<string, string | undefined>;
      delete mutable.NOTIFY_SOCKET;
      delete mutable.WATCHDOG_USEC;
      delete mutable.WATCHDOG_PID;
    }
  }

  get enabled(): boolean {
    return this.#socket !== undefined && !this.#toolMissing && !this.#closed;
  }

  ready(status?: string): Promise<boolean> {
    return this.#send(['READY=1', ...statusField(status)]);
  }

  status(text: string): Promise<boolean> {
    return this.#send(statusField(text));
  }

  reloading(status?: string): Promise<boolean> {
    // The timestamp is taken now, not when the helper runs: systemd uses it to tell this
    // reload from a SIGHUP it sent earlier, so it must not lag behind the queue.
    return this.#send(['RELOADING=1', `MONOTONIC_USEC=${this.#monotonicUsec()}`, ...statusField(status)]);
  }

  stopping(status?: string): Promise<boolean> {
    return this.#send(['STOPPING=1', ...statusField(status)]);
  }

  watchdog(): Promise<boolean> {
    if (this.#pendingPing) return this.#pendingPing;
    const ping = this.#send(['WATCHDOG=1'], () => {
      this.#pendingPing = undefined;
    });
    if (this.enabled) this.#pendingPing = ping;
    return ping;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const tail = this.#tail;
      this.#closed = true;
      await tail.catch(() => undefined);
    })();
    return this.#closing;
  }

  /** Queues one message; `onStart` runs when its turn comes, before the tool is spawned. */
  #send(fields: string[], onStart?: () => void): Promise<boolean> {
    if (!this.enabled || fields.length === 0) return Promise.resolve(false);
    const run = this.#tail.then(() => {
      onStart?.();
      // Checked again: the tool may have turned out missing while this waited.
      if (this.#toolMissing || this.#socket === undefined) return false;
      return this.#spawn(fields);
    });
    this.#tail = run.catch(() => undefined);
    return run.catch(() => false);
  }

  #spawn(fields: readonly string[]): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let stderr = '';
      let settled = false;
      const finish = (ok: boolean, failure?: Record<string, unknown>): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok && failure) this.#logFailure(fields, failure);
        resolve(ok);
      };
      let child: ReturnType<typeof spawn>;
      try {
        // `--` ends the options, so a value can never be read as one.
        child = spawn(this.#command, ['--', ...fields], { env: this.#childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (err) {
        // Synchronous failures: EAGAIN/ENOMEM under memory pressure, an invalid argument.
        this.#logFailure(fields, { err: errorText(err) });
        resolve(false);
        return;
      }
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(false, { timeoutMs: this.#timeoutMs });
      }, this.#timeoutMs);
      timer.unref();
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (stderr.length < 1024) stderr += chunk;
      });
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'EACCES') {
          this.#toolMissing = true;
          this.#logger?.warn(
            { command: this.#command, code: err.code },
            `${this.#command} cannot be run (${err.code}): sd_notify is disabled; a Type=notify unit will time out on start — install systemd's systemd-notify or use Type=exec`,
          );
          finish(false);
          return;
        }
        finish(false, { err: errorText(err) });
      });
      child.on('close', (code, signal) => {
        if (code === 0) finish(true);
        else finish(false, { exitCode: code, signal, stderr: stderr.trim() });
      });
    });
  }

  /** At most one line a minute: a broken socket would otherwise log at every watchdog ping. */
  #logFailure(fields: readonly string[], details: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#lastFailureLog < FAILURE_LOG_INTERVAL_MS) {
      this.#suppressedFailures++;
      return;
    }
    this.#lastFailureLog = now;
    const suppressed = this.#suppressedFailures;
    this.#suppressedFailures = 0;
    this.#logger?.warn({ command: this.#command, message: fields.map((f) => f.split('=')[0]).join(','), ...details, ...(suppressed > 0 ? { suppressedFailures: suppressed } : {}) }, 'sd_notify failed');
  }
}

/** `STATUS=` is one line: a newline would start a new assignment, NUL cannot be passed at all. */
function statusField(text: string | undefined): string[] {
  if (text === undefined) return [];
  return [`STATUS=${text.replace(/[\r\n]+/g, ' ').replace(/\0/g, '')}`];
}

function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/** Settings of {@link startWatchdog}. */
export interface WatchdogOptions {
  /** Where pings go. */
  notifier: Pick<Notifier, 'watchdog' | 'watchdogIntervalMs'>;
  /**
   * Liveness: `true` when the daemon can do its work. `WATCHDOG=1` is sent only then; a check
   * that throws, rejects or does not settle within `checkTimeoutMs` counts as failed.
   */
  check: () => boolean | Promise<boolean>;
  /** Time between checks, ms. @default notifier.watchdogIntervalMs (no loop without it) */
  intervalMs?: number;
  /** Budget of one check, ms. @default half of intervalMs */
  checkTimeoutMs?: number;
  /** Where failing and recovering checks are logged. @default none */
  logger?: Pick<Logger, 'warn' | 'info'>;
}

/** A running watchdog loop. */
export interface WatchdogLoop {
  /** Whether the loop runs (false when no interval applies, or after `stop()`). */
  readonly active: boolean;
  /** Pings sent so far (attempted, whether or not the tool succeeded). */
  readonly pings: number;
  /** Checks that failed so far. */
  readonly failures: number;
  /** Ends the loop. Idempotent. */
  stop(): void;
}

/**
 * Sends `WATCHDOG=1` every `intervalMs` while `check()` passes. A daemon whose event loop is
 * blocked never runs the timer, so it stops pinging by itself; `check` covers the rest (a bus
 * that stays down, a loop that is alive but keeps stalling), and systemd restarts the service
 * after `WatchdogSec=` without a ping.
 */
export function startWatchdog(options: WatchdogOptions): WatchdogLoop {
  const intervalMs = options.intervalMs ?? options.notifier.watchdogIntervalMs;
  const state = { active: intervalMs !== undefined && intervalMs > 0, pings: 0, failures: 0 };
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  const loop: WatchdogLoop = {
    get active() {
      return state.active;
    },
    get pings() {
      return state.pings;
    },
    get failures() {
      return state.failures;
    },
    stop() {
      state.active = false;
      clearTimeout(timer);
    },
  };
  if (!state.active || intervalMs === undefined) return loop;
  const checkTimeoutMs = options.checkTimeoutMs ?? Math.max(1, Math.floor(intervalMs / 2));

  const tick = async (): Promise<void> => {
    const ok = await runCheck(options.check, checkTimeoutMs);
    if (!state.active) return;
    if (ok) {
      state.pings++;
      void options.notifier.watchdog();
      if (failing) options.logger?.info({ failures: state.failures }, 'liveness check passes again; watchdog pings resumed');
      failing = false;
    } else {
      state.failures++;
      if (!failing) options.logger?.warn({ intervalMs }, 'liveness check failed; withholding WATCHDOG=1 (systemd restarts the service after WatchdogSec= without one)');
      failing = true;
    }
    schedule();
  };
  const schedule = (): void => {
    if (!state.active) return;
    // A timeout chain, not setInterval: a slow check never overlaps the next one. Unref'd so
    // that the loop alone does not keep a stopping process alive.
    timer = setTimeout(() => void tick(), intervalMs);
    timer.unref();
  };
  schedule();
  return loop;
}

async function runCheck(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check).then((v) => v === true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
