/**
 * Runs `zenoh-bridge-remote-api` as a child process: the Zenoh peer that HEROS objects talk to
 * on one side and the WebSocket server zenoh-ts talks to on the other.
 *
 *   HEROS peers ──Zenoh (tcp, scouting)──▶ bridge ──WebSocket (loopback)──▶ ZenohBus
 *
 * The launcher starts, watches and stops; it never restarts the bridge by itself. When the
 * bridge dies, the bus notices, reconnects with backoff and reports the gap; restarting is
 * the supervisor's (systemd's) call.
 *
 * The WebSocket has no authentication, so it binds loopback unless told otherwise (the
 * bridge's own default is every interface, `[::]:10000`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, existsSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ArchiverError } from '../errors.js';
import { silentBusLogger, type BusLogger } from './bus-logger.js';
import { probeWebSocket } from './ws-probe.js';

const BINARY_NAME = 'zenoh-bridge-remote-api';
/** Environment variable naming the bridge binary. */
export const BRIDGE_BINARY_ENV = 'HEROS_ARCHIVER_BRIDGE';

/** How to run the bridge. */
export interface BridgeOptions {
  /** Path of the bridge binary. @default `$HEROS_ARCHIVER_BRIDGE`, then `<package>/.tools/bin/zenoh-bridge-remote-api`, then `PATH` */
  binary?: string;
  /** Interface the WebSocket binds to. Anything but loopback exposes an unauthenticated API. @default "127.0.0.1" */
  wsHost?: string;
  /** WebSocket port; 0 picks a free one. @default 0 */
  wsPort?: number;
  /** Zenoh session mode. @default "peer" (what HEROS peers use) */
  mode?: 'peer' | 'client';
  /** Zenoh endpoints to listen on (`-l`). @default Zenoh's peer default, a random TCP port on every interface, so LAN peers found by scouting can connect */
  listen?: readonly string[];
  /** Zenoh endpoints to connect to (`-e`). @default none */
  connect?: readonly string[];
  /** Answer and send UDP multicast scouting, as HEROS peers do by default. @default true */
  multicastScouting?: boolean;
  /** A Zenoh JSON5 configuration file (`-c`). @default none */
  configFile?: string;
  /** Extra `--cfg KEY:VALUE` settings, e.g. `transport/link/rx/max_message_size:2147483648`. @default none */
  cfg?: readonly string[];
  /** Extra environment for the child (e.g. `RUST_LOG`). @default none */
  env?: Readonly<Record<string, string>>;
  /** How long to wait for the WebSocket to accept connections. @default 30000 */
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in `stop()`. @default 5000 */
  stopGraceMs?: number;
  /** Receives the bridge's log lines (at their own level) and lifecycle lines. */
  logger?: BusLogger;
}

/** How a bridge process ended. */
export interface BridgeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running bridge. */
export interface BridgeHandle {
  /** Locator for zenoh-ts / `ZenohBus.connect`, e.g. `ws/127.0.0.1:41234`. */
  readonly url: string;
  readonly pid: number;
  readonly wsHost: string;
  readonly wsPort: number;
  /** The binary that runs. */
  readonly binary: string;
  /** Settles when the process has exited, for whatever reason. */
  readonly exited: Promise<BridgeExit>;
  /** The last log lines (ANSI colours removed), for error messages and tests. */
  recentLog(): string[];
  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

const LOG_TAIL = 30;
const BIND_FAILED = /Unable to start TcpListener/;

/**
 * Starts the bridge and resolves once its WebSocket accepts connections.
 * @throws ArchiverError `ARCHIVER_BUS_FAILED` when the binary is missing, exits early, cannot
 *   bind its port or is not ready in time; the message names the binary and the last log lines.
 */
export async function startBridge(options: BridgeOptions = {}): Promise<BridgeHandle> {
  const binary = findBridgeBinary(options.binary);
  const wsHost = options.wsHost ?? '127.0.0.1';
  // A free port found by binding and closing can be taken by someone else before the bridge
  // binds it; with a picked port, try a few.
  const attempts = options.wsPort ? 1 : 3;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const wsPort = options.wsPort || (await findFreePort(wsHost));
    try {
      return await launch(binary, wsHost, wsPort, options);
    } catch (err) {
      lastError = err;
      if (!(err instanceof BindError)) break;
    }
  }
  if (lastError instanceof BindError) throw lastError.error;
  throw lastError;
}

class BindError extends Error {
  constructor(readonly error: ArchiverError) {
    super(error.message);
  }
}

async function launch(binary: string, wsHost: string, wsPort: number, options: BridgeOptions): Promise<BridgeHandle> {
  const logger = options.logger ?? silentBusLogger;
  const hostPort = formatHostPort(wsHost, wsPort);
  const url = `ws/${hostPort}`;
  const args = bridgeArguments({ ...options, wsHost }, wsPort);

  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    // NO_COLOR keeps most ANSI codes out of the log lines; the rest are stripped below.
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned || child.pid === undefined) {
    throw new ArchiverError('ARCHIVER_BUS_FAILED', `cannot start the Zenoh bridge ${binary}: ${spawned?.message ?? 'no pid'}`, { path: binary, cause: spawned, retryable: false });
  }
  const pid = child.pid;
  const tail: string[] = [];
  let bindFailed = false;
  const onLine = (line: string): void => {
    const clean = stripAnsi(line).trimEnd();
    if (clean === '') return;
    tail.push(clean);
    if (tail.length > LOG_TAIL) tail.shift();
    if (BIND_FAILED.test(clean)) bindFailed = true;
    const { level, target, message } = parseBridgeLogLine(clean);
    logger[level]({ bridgePid: pid, ...(target ? { target } : {}) }, message);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);

  let stopping = false;
  const exited = new Promise<BridgeExit>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) logger.error({ bridgePid: pid, code, signal, recentLog: tail.slice(-5) }, 'Zenoh bridge exited unexpectedly');
      else logger.info({ bridgePid: pid, code, signal }, 'Zenoh bridge stopped');
      resolve({ code, signal });
    });
  });
  let exitInfo: BridgeExit | undefined;
  void exited.then((e) => (exitInfo = e));

  let stopPromise: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopPromise ??= stopChild(child, exited, options.stopGraceMs ?? 5000, () => (stopping = true));
    return stopPromise;
  };

  logger.info({ bridgePid: pid, binary, args }, 'Zenoh bridge starting');
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + readyTimeoutMs;
  const fail = async (why: string, bind = false): Promise<never> => {
    await stop();
    const err = new ArchiverError(
      'ARCHIVER_BUS_FAILED',
      `Zenoh bridge ${binary} ${why}; last log lines:\n  ${meaningfulTail(tail, 10).join('\n  ') || '(none)'}`,
      { path: binary },
    );
    throw bind ? new BindError(err) : err;
  };
  for (;;) {
    if (exitInfo) return fail(`exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal})`);
    if (bindFailed) return fail(`could not bind its WebSocket to ${hostPort}`, true);
    try {
      await probeWebSocket(url, Math.min(2000, Math.max(100, deadline - Date.now())));
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() >= deadline) return fail(`did not accept WebSocket connections on ${hostPort} within ${readyTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  logger.info({ bridgePid: pid, url }, 'Zenoh bridge ready');

  return {
    url,
    pid,
    wsHost,
    wsPort,
    binary,
    exited,
    recentLog: () => tail.slice(),
    stop,
  };
}

/** The bridge's command line for `options` with the WebSocket on `wsPort`. */
export function bridgeArguments(options: Omit<BridgeOptions, 'wsPort'>, wsPort: number): string[] {
  const args = ['--ws-port', formatHostPort(options.wsHost ?? '127.0.0.1', wsPort), '-m', options.mode ?? 'peer'];
  for (const ep of options.listen ?? []) args.push('-l', ep);
  for (const ep of options.connect ?? []) args.push('-e', ep);
  if (options.multicastScouting === false) args.push('--no-multicast-scouting');
  if (options.configFile !== undefined) args.push('-c', options.configFile);
  for (const kv of options.cfg ?? []) args.push('--cfg', kv);
  return args;
}

function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

async function stopChild(child: ChildProcess, exited: Promise<BridgeExit>, graceMs: number, markStopping: () => void): Promise<void> {
  markStopping();
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const first = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (first === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The bridge binary: `explicit`, then `$HEROS_ARCHIVER_BRIDGE`, then the copy set-up installs
 * in `<package>/.tools/bin`, then `PATH`.
 * @throws ArchiverError `ARCHIVER_BUS_FAILED` when none is executable.
 */
export function findBridgeBinary(explicit?: string): string {
  const tried: string[] = [];
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  const fromEnv = process.env[BRIDGE_BINARY_ENV];
  if (fromEnv) candidates.push(fromEnv);
  const root = packageRoot();
  if (root) candidates.push(path.join(root, '.tools', 'bin', BINARY_NAME));
  for (const candidate of candidates) {
    tried.push(candidate);
    if (isExecutable(candidate)) return candidate;
    // An explicit or environment choice that does not work is an error, not a hint to look elsewhere.
    if (candidate === explicit || candidate === fromEnv) {
      throw new ArchiverError('ARCHIVER_BUS_FAILED', `Zenoh bridge binary ${candidate} is not an executable file`, { path: candidate, retryable: false });
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, BINARY_NAME);
    if (isExecutable(candidate)) return candidate;
  }
  tried.push(`${BINARY_NAME} on PATH`);
  throw new ArchiverError(
    'ARCHIVER_BUS_FAILED',
    `Zenoh bridge binary not found (tried ${tried.join(', ')}); run scripts/setup-bridge.sh, set ${BRIDGE_BINARY_ENV}, or connect to an operator-run bridge`,
    { retryable: false },
  );
}

/** The folder of this package's package.json: src/bus runs from the sources and from dist/. */
function packageRoot(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago on `host`. */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The last `n` lines without Rust backtrace frames, which would push the panic message out. */
function meaningfulTail(lines: readonly string[], n: number): string[] {
  return lines.filter((l) => !/^\s+\d+: |^\s+at |^stack backtrace:|^note: .*backtrace/.test(l)).slice(-n);
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/** One bridge log line, as tracing prints it: `<time> <LEVEL> <thread…> <target>: <message>`. */
export function parseBridgeLogLine(line: string): { level: keyof BusLogger; target?: string; message: string } {
  const m = /^\S+\s+(TRACE|DEBUG|INFO|WARN|ERROR)\s+(.*)$/.exec(line);
  if (!m) return { level: 'info', message: line };
  const level = ({ TRACE: 'debug', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[m[1] as 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'];
  const rest = m[2]!;
  // `main ThreadId(01) zenoh::net::runtime: Using ZID: …` → target `zenoh::net::runtime`.
  const t = /^(?:\S+\s+)?ThreadId\(\d+\)\s+([\w:]+):\s(.*)$/.exec(rest);
  if (t) return { level, target: t[1]!, message: t[2]! };
  return { level, message: rest };
}
