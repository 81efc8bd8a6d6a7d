/**
 * Real processes for the end-to-end interop tests: the heros-archiver daemon as users run it
 * (bin/heros-archiver, from dist/), real BOSS running herostools actors, and the corpus
 * publisher (test/interop/python/publisher.py).
 *
 * Each runs in its own process group: what it starts itself — BOSS's forked actor processes,
 * the daemon's managed bridge — would outlive a SIGKILL of the leader otherwise. Stopping sends
 * SIGTERM to the leader, then SIGKILL to the whole group, so nothing is left behind even when a
 * test fails half-way. `stopAll()` from helpers.ts stops whatever is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { ArchiverStats } from '../../src/archiver.js';
import { pythonBin, repoRoot } from '../helpers/python.js';
import { registerCleanup, waitFor } from './helpers.js';

/** How a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process in its own group, with its output kept line by line. */
export interface GroupProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly stdout: string[];
  /** The last stderr lines. */
  readonly stderr: string[];
  readonly exited: Promise<ProcessExit>;
  /** How it ended, once it has. */
  exit(): ProcessExit | undefined;
  /** The last `n` lines of both streams, for failure messages. */
  tail(n?: number): string;
  /** Sends `signal` to the leader only (what systemd's KillMode=mixed does first). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM to the leader, SIGKILL to the group after `graceMs`; resolves with the leader's exit. Idempotent. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

const STDERR_TAIL = 300;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** Spawns `command` in a new process group; `stop()` is registered with `stopAll()`. */
export function startGroupProcess(name: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; graceMs?: number } = {}): GroupProcess {
  const child = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${command})`);
  const pid = child.pid;
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => stdout.push(line));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > STDERR_TAIL) stderr.shift();
  });
  child.stdin!.on('error', () => {
    // the process exited; its exit code tells why
  });
  let exitInfo: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  let stopping: Promise<ProcessExit> | undefined;
  const stop = (graceMs = options.graceMs ?? 10_000): Promise<ProcessExit> => {
    stopping ??= (async () => {
      if (!exitInfo) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), graceMs);
      });
      const first = await Promise.race([exited, graceOver]);
      clearTimeout(timer);
      // Also when the leader exited in time: children it left behind go with the group.
      killGroup(pid, 'SIGKILL');
      return first ?? (await exited);
    })();
    return stopping;
  };
  const unregister = registerCleanup(async () => {
    await stop();
  });
  void exited.then(() => {
    // Keep the clean-up while group members may still be alive; drop it once stop() ran.
    if (stopping) unregister();
  });

  return {
    name,
    child,
    pid,
    stdout,
    stderr,
    exited,
    exit: () => exitInfo,
    tail: (n = 40) => [`--- ${name} stdout`, ...stdout.slice(-n), `--- ${name} stderr`, ...stderr.slice(-n)].join('\n'),
    kill: (signal) => {
      if (!exitInfo) child.kill(signal);
    },
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// The daemon

const LAUNCHER = path.join(repoRoot, 'bin', 'heros-archiver');

/** The daemon's log levels, lowest first; its log lines carry the label (`"level":"warn"`). */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** One JSON log line of the daemon (pino). */
export interface DaemonLog {
  level: LogLevel;
  msg: string;
  [key: string]: unknown;
}

/** True when `log` is at `level` or above; an unknown label counts as above, so it is not missed. */
export function atLeast(log: DaemonLog, level: LogLevel): boolean {
  const at = LEVELS.indexOf(log.level);
  return at < 0 || at >= LEVELS.indexOf(level);
}

/** A running `heros-archiver` process. */
export interface DaemonProcess extends GroupProcess {
  /** Every JSON log line so far, parsed. */
  logs(): DaemonLog[];
  /** Waits for a log line matching `predicate`; fails early, with the log, when the daemon exits. */
  waitForLog(predicate: (log: DaemonLog) => boolean, what: string, timeoutMs?: number): Promise<DaemonLog>;
}

/**
 * Fails with a clear message when dist/ is missing or older than the source of a module the
 * daemon loads (the relative imports reachable from dist/src/cli.js): the launcher runs dist/,
 * and a test of stale code would prove nothing. Sources nothing imports yet do not count.
 */
export function assertBuilt(): void {
  const entry = path.join(repoRoot, 'dist', 'src', 'cli.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` (scripts/test.sh does) before the interop tests`);
  const stale: string[] = [];
  const seen = new Set<string>();
  const visit = (js: string): void => {
    if (seen.has(js)) return;
    seen.add(js);
    const source = path.join(repoRoot, path.relative(path.join(repoRoot, 'dist'), js)).replace(/\.js$/, '.ts');
    if (existsSync(source) && statSync(source).mtimeMs > statSync(js).mtimeMs) stale.push(path.relative(repoRoot, source));
    for (const m of readFileSync(js, 'utf8').matchAll(/(?:from |import\()'(\.{1,2}\/[^']+\.js)'/g)) {
      const target = path.resolve(path.dirname(js), m[1]!);
      if (existsSync(target)) visit(target);
      else stale.push(`${path.relative(repoRoot, target)} (missing)`);
    }
  };
  visit(entry);
  if (stale.length > 0) throw new Error(`dist/ is older than ${stale.join(', ')}: run \`npm run build\` before the interop tests`);
}

/** Starts `bin/heros-archiver <args>` in `cwd`. */
export function startDaemon(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): DaemonProcess {
  assertBuilt();
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // The bridge's Rust logging would flood the daemon's log with the managed bridge.
  delete env.RUST_LOG;
  const proc = startGroupProcess('heros-archiver', LAUNCHER, args, { cwd: options.cwd, env, graceMs: 40_000 });
  let parsedUpTo = 0;
  const parsed: DaemonLog[] = [];
  const logs = (): DaemonLog[] => {
    for (; parsedUpTo < proc.stdout.length; parsedUpTo++) {
      try {
        parsed.push(JSON.parse(proc.stdout[parsedUpTo]!) as DaemonLog);
      } catch {
        parsed.push({ level: 'info', msg: proc.stdout[parsedUpTo]!, unparsed: true });
      }
    }
    return parsed;
  };
  const waitForLog = async (predicate: (log: DaemonLog) => boolean, what: string, timeoutMs = 60_000): Promise<DaemonLog> => {
    let found: DaemonLog | undefined;
    try {
      await waitFor(
        () => {
          found = logs().find(predicate);
          if (found) return true;
          const exit = proc.exit();
          if (exit) throw new Error(`heros-archiver exited (code ${exit.code}, signal ${exit.signal}) before ${what}`);
          return false;
        },
        `heros-archiver: ${what}`,
        timeoutMs,
        50,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${proc.tail()}`);
    }
    return found!;
  };
  return { ...proc, logs, waitForLog };
}

// ---------------------------------------------------------------------------------------------
// Python: BOSS and the publisher

function pythonEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', ...extra };
  // Python's zenoh logs to stdout when RUST_LOG is set.
  delete env.RUST_LOG;
  return env;
}

/**
 * Zenoh configuration of a Python peer in the tests: it connects to the bridge only, listens on
 * loopback and does no multicast scouting. The connect retry keeps it trying when the bridge
 * restarts.
 */
export function loopbackPeerConfig(endpoint: string): Record<string, unknown> {
  return {
    mode: 'peer',
    'connect/endpoints': [endpoint],
    'connect/timeout_ms': -1,
    'connect/exit_on_failure': false,
    'listen/endpoints': ['tcp/127.0.0.1:0'],
    'scouting/multicast/enabled': false,
  };
}

/**
 * Starts real BOSS (heros-boss, via run_boss.py) with `entries` (JSON texts, so that numbers
 * keep their Python spelling: `1.0` stays a float) as its manifest, working in `cwd`. BOSS
 * reads the manifest from the environment variable BOSS (its default `-e BOSS`); it takes one
 * entry or a CouchDB view, not a plain array (`dict.update` of a list fails), so the entries
 * go in view form.
 */
export function startRealBoss(entries: readonly string[], options: { endpoint: string; cwd: string }): GroupProcess {
  const env = pythonEnv({
    BOSS: `{"rows": [${entries.map((doc) => `{"doc": ${doc}}`).join(', ')}]}`,
    HEROS_ZENOH_CONFIG: JSON.stringify(loopbackPeerConfig(options.endpoint)),
  });
  const script = path.join(repoRoot, 'test', 'interop', 'python', 'run_boss.py');
  // Actors stop on SIGTERM after up to 5 s each; then the group is killed anyway.
  return startGroupProcess('BOSS', pythonBin(), [script, '--name', `interop-boss-${process.pid}`], { cwd: options.cwd, env, graceMs: 15_000 });
}

/** The corpus publisher: a LocalHERO named "interop-cam". */
export interface Publisher extends GroupProcess {
  /** Sends one command; resolves with the count of its "done <count>" answer. */
  command(line: string, timeoutMs?: number): Promise<number>;
}

/** Starts publisher.py connected to `endpoint`, publishing the corpus `rounds` times per "go". */
export async function startPublisher(endpoint: string, rounds: number): Promise<Publisher> {
  const script = path.join(repoRoot, 'test', 'interop', 'python', 'publisher.py');
  const proc = startGroupProcess('publisher', pythonBin(), [script, endpoint, String(rounds)], { env: pythonEnv({}) });
  const failIfExited = (): void => {
    const exit = proc.exit();
    if (exit) throw new Error(`publisher.py exited (code ${exit.code}, signal ${exit.signal})\n${proc.tail()}`);
  };
  await waitFor(
    () => {
      failIfExited();
      return proc.stdout.includes('ready');
    },
    'publisher.py to be ready',
    60_000,
  );
  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string, timeoutMs = 120_000): Promise<number> => {
    const run = async (): Promise<number> => {
      const from = proc.stdout.length;
      proc.child.stdin!.write(`${line}\n`);
      let count = -1;
      await waitFor(
        () => {
          failIfExited();
          const done = proc.stdout.slice(from).find((l) => l.startsWith('done '));
          if (done) count = Number(done.slice(5));
          return done !== undefined;
        },
        `publisher.py to finish "${line}"`,
        timeoutMs,
      );
      return count;
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };
  const stop = async (graceMs?: number): Promise<ProcessExit> => {
    // "quit" destroys the HERO cleanly; the group stop is the fallback.
    if (!proc.exit()) proc.child.stdin!.write('quit\n');
    await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 10_000))]);
    return proc.stop(graceMs);
  };
  return { ...proc, command, stop };
}

/** An actor's counters as the daemon's `/ready` reports them. */
export type ActorStats = Pick<ArchiverStats, 'received' | 'durable' | 'stored' | 'pending' | 'spooled' | 'refused' | 'deadLettered'>;

/** The counters of actor `id` from the daemon's `/ready` on `port`; undefined while it does not answer. */
export async function actorStats(port: number, id: string): Promise<ActorStats | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    const body = (await res.json()) as { actors: { id: string; stats?: ActorStats }[] };
    return body.actors.find((a) => a.id === id)?.stats;
  } catch {
    return undefined;
  }
}
