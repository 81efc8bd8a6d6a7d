/**
 * Opens the daemon's Zenoh bus: either on an operator-run bridge (`url`) or on a bridge this
 * process starts and stops. Kept apart from the CLI so that embedding code can do the same.
 */
import { ArchiverError } from '../errors.js';
import type { Bus } from './bus.js';
import type { BusLogger } from './bus-logger.js';
import { startBridge } from './bridge-process.js';
import { ZenohBus } from './zenoh.js';

/** What the command line says about the bus. */
export interface ZenohLaunchOptions {
  /** An operator-run bridge's WebSocket (`ws/127.0.0.1:10000`); when set, no bridge is started. */
  url?: string | undefined;
  /** Managed bridge: Zenoh endpoints to listen on. @default Zenoh's peer default */
  listen?: readonly string[] | undefined;
  /** Managed bridge: Zenoh endpoints to connect to. @default none */
  connect?: readonly string[] | undefined;
  /** Managed bridge: Zenoh JSON5 configuration file. */
  configFile?: string | undefined;
  /** Managed bridge: UDP multicast scouting, as HEROS peers use. @default true */
  multicastScouting?: boolean | undefined;
  /** Managed bridge: WebSocket `host:port` (`[::1]:port` for IPv6). @default 127.0.0.1 and a free port */
  ws?: string | undefined;
  /** Managed bridge: extra Zenoh settings `KEY:VALUE` (the bridge's `--cfg`). */
  cfg?: readonly string[] | undefined;
  /** Largest event the bus accepts from the bridge, bytes. @default 1 GiB + 1 MiB */
  maxMessageBytes?: number | undefined;
  /**
   * Ends the wait for the bridge: `openZenohBus` then rejects with the signal's reason. The bus
   * retries an absent bridge for ever, so without it a stop request could never end that wait.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Starts what is needed and returns the connected bus. Pushes its clean-up steps onto
 * `teardown` in creation order (the caller runs them in reverse: bus, then bridge).
 */
export async function openZenohBus(options: ZenohLaunchOptions, logger: BusLogger, teardown: (() => Promise<void>)[]): Promise<Bus> {
  let url = options.url;
  if (url === undefined) {
    const { host, port } = parseHostPort(options.ws);
    const bridge = await startBridge({
      wsHost: host,
      wsPort: port,
      ...(options.listen ? { listen: options.listen } : {}),
      ...(options.connect ? { connect: options.connect } : {}),
      ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
      multicastScouting: options.multicastScouting ?? true,
      ...(options.cfg ? { cfg: options.cfg } : {}),
      logger,
    });
    teardown.push(() => bridge.stop());
    url = bridge.url;
  }
  const bus = new ZenohBus({ url, logger, signal: options.signal, ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}) });
  teardown.push(() => bus.close());
  await bus.start();
  return bus;
}

function parseHostPort(ws: string | undefined): { host: string; port: number } {
  if (ws === undefined || ws === '') return { host: '127.0.0.1', port: 0 };
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(ws) ?? /^()()(\d+)$/.exec(ws);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ArchiverError('ARCHIVER_USAGE', `--bridge-ws: expected host:port or a port number, got "${ws}"`, { retryable: false });
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}
