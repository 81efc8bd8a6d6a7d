/**
 * Real peers for the interop tests: a zenoh-bridge-remote-api on free loopback ports and a
 * Python HEROS LocalHERO (test/interop/hero-peer.py) connected to it. Everything listens on
 * 127.0.0.1 only and multicast scouting is off, so tests never reach the LAN. Every process
 * started here is registered and killed by `stopAll()` (call it in `afterAll`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startBridge, findFreePort, type BridgeHandle } from '../../src/bus/bridge-process.js';
import type { BusLogger } from '../../src/bus/bus-logger.js';
import { pythonBin, repoRoot } from '../helpers/python.js';
import { afterAll, beforeAll } from 'vitest';
import { ZenohBus } from '../../src/bus/zenoh.js';
import { NativeZenohBus, type NativeZenohBusOptions } from '../../src/bus/native.js';

const HERO_PEER_SCRIPT = path.join(repoRoot, 'test', 'interop', 'hero-peer.py');
const cleanups = new Set<() => Promise<void>>();

/**
 * Registers a clean-up step for `stopAll()` (processes started by other test modules); returns
 * a function that unregisters it once the step is no longer needed.
 */
export function registerCleanup(step: () => Promise<void>): () => void {
  cleanups.add(step);
  return () => void cleanups.delete(step);
}

/** Stops every bridge and Python peer still running. */
export async function stopAll(): Promise<void> {
  const steps = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(steps.map((s) => s()));
}

/** Polls `condition` until it is true; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One recorded log call. */
export interface LogEntry {
  level: keyof BusLogger;
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that records every call (and echoes them when `HA_TEST_LOG=1`). */
export function recordingLogger(prefix = ''): BusLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const echo = process.env.HA_TEST_LOG === '1';
  const make =
    (level: keyof BusLogger) =>
    (obj: Record<string, unknown>, msg = ''): void => {
      entries.push({ level, obj, msg });
      if (echo) process.stderr.write(`${prefix}[${level}] ${msg} ${JSON.stringify(obj).slice(0, 300)}\n`);
    };
  return { entries, debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

/** A bridge for tests, with its ports so it can be restarted on the same ones. */
export interface TestBridge {
  bridge: BridgeHandle;
  wsPort: number;
  tcpPort: number;
  /** Where Zenoh peers connect: `tcp/127.0.0.1:<tcpPort>`. */
  endpoint: string;
  url: string;
}

/**
 * Starts a bridge: WebSocket on 127.0.0.1, Zenoh listening on `tcp/127.0.0.1:<port>`, no
 * multicast scouting. Pass the ports of a previous bridge to restart "the same" bridge.
 */
export async function startTestBridge(ports: { wsPort?: number; tcpPort?: number } = {}, logger?: BusLogger): Promise<TestBridge> {
  const wsPort = ports.wsPort ?? (await findFreePort());
  const tcpPort = ports.tcpPort ?? (await findFreePort());
  const endpoint = `tcp/127.0.0.1:${tcpPort}`;
  const bridge = await startBridge({
    wsHost: '127.0.0.1',
    wsPort,
    listen: [endpoint],
    multicastScouting: false,
    // Gossip scouting would advertise the peers' locators to each other; loopback only anyway.
    stopGraceMs: 3000,
    ...(logger ? { logger } : {}),
  });
  const cleanup = (): Promise<void> => bridge.stop();
  cleanups.add(cleanup);
  void bridge.exited.then(() => cleanups.delete(cleanup));
  return { bridge, wsPort, tcpPort, endpoint, url: bridge.url };
}

/** How a test's bus reaches Zenoh: zenoh-ts through a bridge, or the in-process session. */
export type Transport = 'bridge' | 'native';
/** Both transports, for `describe.each`. */
export const TRANSPORTS: readonly Transport[] = ['bridge', 'native'];

/**
 * The daemon's flags to reach the test bridge's Zenoh network on `transport`: zenoh-ts over the
 * bridge's WebSocket, or its own in-process session as a Zenoh peer of the bridge (loopback,
 * no scouting), as the Python peers are.
 */
export function daemonBusArgs(transport: Transport, tb: TestBridge): string[] {
  return transport === 'bridge' ? ['--zenoh', tb.url] : ['--bus', 'native', '--bridge-connect', tb.endpoint, '--bridge-listen', 'tcp/127.0.0.1:0', '--no-multicast-scouting'];
}

/** A bus for tests and the loopback endpoint where Python peers reach it. */
export interface TestBus<B> {
  bus: B;
  /** `tcp/127.0.0.1:<port>`: the bridge's Zenoh endpoint, or the in-process session's. */
  endpoint: string;
  /** The bridge, for the bridge transport. */
  tb: TestBridge | undefined;
}

/**
 * A bus on `transport` that Python peers reach at a loopback endpoint (no multicast
 * scouting): a test bridge with a ZenohBus, or a NativeZenohBus listening on a free port. Both
 * are stopped by `stopAll()`.
 */
export async function startTestBus(transport: 'bridge', logger?: BusLogger): Promise<TestBus<ZenohBus>>;
export async function startTestBus(transport: 'native', logger?: BusLogger, native?: NativeZenohBusOptions): Promise<TestBus<NativeZenohBus>>;
export async function startTestBus(transport: Transport, logger?: BusLogger): Promise<TestBus<ZenohBus | NativeZenohBus>>;
export async function startTestBus(transport: Transport, logger?: BusLogger, native: NativeZenohBusOptions = {}): Promise<TestBus<ZenohBus | NativeZenohBus>> {
  if (transport === 'bridge') {
    const tb = await startTestBridge({}, logger);
    const bus = await ZenohBus.connect({ url: tb.url, ...(logger ? { logger } : {}) });
    cleanups.add(() => bus.close());
    return { bus, endpoint: tb.endpoint, tb };
  }
  const endpoint = `tcp/127.0.0.1:${await findFreePort()}`;
  const bus = await NativeZenohBus.open({ ...native, listen: [endpoint], multicastScouting: false, ...(logger ? { logger } : {}) });
  cleanups.add(() => bus.close());
  return { bus, endpoint, tb: undefined };
}

/** One JSON line from the Python peer. */
export interface PeerMessage {
  type: string;
  [key: string]: unknown;
}

/** A running Python HERO. */
export interface HeroPeer {
  readonly name: string;
  /** `@object/<realm>/<name>` */
  readonly keyPrefix: string;
  readonly process: ChildProcess;
  /** Every JSON message received so far. */
  readonly messages: PeerMessage[];
  /** Everything on stderr and non-JSON stdout (for failure messages). */
  readonly log: string[];
  /** Sends one command and resolves with the messages it produced, once its `done` arrives. */
  command(line: string, timeoutMs?: number): Promise<PeerMessage[]>;
  /** Quits (or kills) the peer. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts hero-peer.py: a LocalHERO named `name` that connects to `endpoint` as a Zenoh peer
 * (retrying for ever), listens on loopback only and does no multicast scouting.
 */
export async function startHeroPeer(name: string, endpoint: string, realm = 'heros'): Promise<HeroPeer> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
  // Python's zenoh logs to stdout when RUST_LOG is set, which would mix with the protocol.
  delete env.RUST_LOG;
  const child = spawn(pythonBin(), [HERO_PEER_SCRIPT, name, endpoint, realm], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const messages: PeerMessage[] = [];
  const log: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line) as PeerMessage);
    } catch {
      log.push(line);
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.push(line);
    if (log.length > 200) log.shift();
  });
  child.stdin!.on('error', () => {
    // the peer exited; command() reports it
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitedNow = false;
  void exited.then(() => (exitedNow = true));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exitedNow) {
        child.stdin!.write('quit\n');
        const quitInTime = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
        if (!quitInTime) {
          child.kill('SIGKILL');
          await exited;
        }
      }
    })();
    return stopping;
  };
  cleanups.add(stop);
  void exited.then(() => cleanups.delete(stop));

  const failIfExited = (): void => {
    if (exitedNow) throw new Error(`hero-peer.py exited (code ${child.exitCode}); log:\n${log.slice(-30).join('\n')}`);
  };
  await waitFor(
    () => {
      failIfExited();
      return messages.some((m) => m.type === 'ready');
    },
    `hero-peer ${name} to be ready`,
    60_000,
  );
  const ready = messages.find((m) => m.type === 'ready')!;

  let queue: Promise<unknown> = Promise.resolve();
  const command = (line: string, timeoutMs = 60_000): Promise<PeerMessage[]> => {
    const run = async (): Promise<PeerMessage[]> => {
      failIfExited();
      const from = messages.length;
      const cmd = line.split(/\s+/)[0];
      child.stdin!.write(`${line}\n`);
      let doneAt = -1;
      await waitFor(
        () => {
          failIfExited();
          doneAt = messages.findIndex((m, i) => i >= from && m.type === 'done' && m.cmd === cmd);
          return doneAt >= 0;
        },
        `hero-peer to finish "${line}"`,
        timeoutMs,
      );
      const out = messages.slice(from, doneAt);
      const error = out.find((m) => m.type === 'error');
      if (error) throw new Error(`hero-peer "${line}" failed: ${String(error.message)}`);
      return out;
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };

  return { name, keyPrefix: String(ready.key_prefix), process: child, messages, log, command, stop };
}

/** A unique HERO name per test, so that parallel test files never see each other's events. */
export function uniqueName(base: string): string {
  return `${base}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * For a describe block: a test bridge, a Python HERO peer named `<peerName>-…` on it, and a
 * ZenohBus connected to it (logging with `label`), started before the tests and stopped after.
 * The fields are set once `beforeAll` has run.
 */
export function bridgePeerAndBus(label: string, peerName = 'cam'): { readonly tb: TestBridge; readonly peer: HeroPeer; readonly bus: ZenohBus } {
  const ctx = {} as { tb: TestBridge; peer: HeroPeer; bus: ZenohBus };
  beforeAll(async () => {
    ctx.tb = await startTestBridge();
    ctx.peer = await startHeroPeer(uniqueName(peerName), ctx.tb.endpoint);
    ctx.bus = await ZenohBus.connect({ url: ctx.tb.url, logger: recordingLogger(label) });
  });
  afterAll(async () => {
    await ctx.bus?.close();
    await stopAll();
  });
  return ctx;
}
