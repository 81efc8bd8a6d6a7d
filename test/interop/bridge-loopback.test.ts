import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { bridgeArguments, findBridgeBinary, parseBridgeLogLine, startBridge } from '../../src/bus/bridge-process.js';
import { recordingLogger, stopAll, waitFor } from './helpers.js';

interface Listener {
  address: string;
  port: number;
}

/** TCP sockets in LISTEN state owned by `pid`, from /proc (no `ss` needed). */
function listeningSockets(pid: number): Listener[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // fd closed meanwhile
    }
  }
  const out: Listener[] = [];
  for (const table of ['tcp', 'tcp6'] as const) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      const [localHex, state, inode] = [cols[1]!, cols[3]!, cols[9]!];
      if (state !== '0A' || !inodes.has(inode)) continue; // 0A = LISTEN
      const [addrHex, portHex] = localHex.split(':') as [string, string];
      out.push({ address: decodeAddress(addrHex), port: parseInt(portHex, 16) });
    }
  }
  return out;
}

/** /proc/net/tcp addresses are little-endian 32-bit words. */
function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const all = words.join('');
  if (/^0{20}ffff/.test(all)) return decodeAddress(words[3]!.match(/../g)!.reverse().join('')); // v4-mapped
  if (/^0+$/.test(all)) return '::';
  if (/^0{31}1$/.test(all)) return '::1';
  return all.match(/.{4}/g)!.join(':');
}

describe('the managed bridge', () => {
  afterAll(stopAll);

  test('binds its WebSocket to 127.0.0.1 only by default', async () => {
    const logger = recordingLogger('loopback ');
    const bridge = await startBridge({ listen: ['tcp/127.0.0.1:0'], multicastScouting: false, logger });
    try {
      expect(bridge.url).toMatch(/^ws\/127\.0\.0\.1:\d+$/);
      const sockets = listeningSockets(bridge.pid);
      const ws = sockets.filter((s) => s.port === bridge.wsPort);
      expect(ws).toEqual([{ address: '127.0.0.1', port: bridge.wsPort }]);
      // The Zenoh listener asked for is loopback too: nothing of this bridge listens elsewhere.
      for (const s of sockets) expect(s.address).toBe('127.0.0.1');
      // The bridge's own log lines reach the logger at their level.
      await waitFor(() => logger.entries.some((e) => e.obj.bridgePid === bridge.pid && e.obj.target === 'zenoh::net::runtime'), 'bridge log lines');
    } finally {
      await bridge.stop();
    }
    // stop() is idempotent and the process is gone.
    await bridge.stop();
    const exit = await bridge.exited;
    expect(exit.code !== null || exit.signal !== null).toBe(true);
  });

  test('passes another WebSocket interface and the Zenoh settings through when configured', () => {
    const args = bridgeArguments(
      { wsHost: '0.0.0.0', listen: ['tcp/192.0.2.1:7447'], connect: ['tcp/192.0.2.2:7447'], multicastScouting: true, configFile: '/etc/zenoh.json5', cfg: ['transport/link/rx/max_message_size:2147483648'] },
      10000,
    );
    expect(args).toEqual([
      '--ws-port', '0.0.0.0:10000', '-m', 'peer',
      '-l', 'tcp/192.0.2.1:7447', '-e', 'tcp/192.0.2.2:7447',
      '-c', '/etc/zenoh.json5', '--cfg', 'transport/link/rx/max_message_size:2147483648',
    ]);
    expect(bridgeArguments({ wsHost: '::1', multicastScouting: false }, 1)).toEqual(['--ws-port', '[::1]:1', '-m', 'peer', '--no-multicast-scouting']);
  });

  test('a missing binary is a coded error naming it', async () => {
    await expect(startBridge({ binary: '/nonexistent/zenoh-bridge-remote-api' })).rejects.toMatchObject({ code: 'ARCHIVER_BUS_FAILED', message: expect.stringContaining('/nonexistent/zenoh-bridge-remote-api') });
    expect(findBridgeBinary()).toMatch(/zenoh-bridge-remote-api$/);
  });

  test('a bridge that cannot start is a coded error with its last log lines', async () => {
    await expect(startBridge({ configFile: '/nonexistent/zenoh.json5', multicastScouting: false, listen: ['tcp/127.0.0.1:0'], readyTimeoutMs: 20_000 })).rejects.toMatchObject({
      code: 'ARCHIVER_BUS_FAILED',
      message: expect.stringMatching(/zenoh-bridge-remote-api[\s\S]*last log lines/),
    });
  });

  test('parses tracing log lines', () => {
    expect(parseBridgeLogLine('2026-11-23T13:36:52.174135Z  INFO main ThreadId(01) zenoh::net::runtime: Using ZID: 7b30')).toEqual({ level: 'info', target: 'zenoh::net::runtime', message: 'Using ZID: 7b30' });
    expect(parseBridgeLogLine('2026-11-23T14:06:12.919996Z ERROR tokio-rt-worker ThreadId(02) zenoh_plugin_remote_api: Error during the websocket handshake')).toMatchObject({ level: 'error', target: 'zenoh_plugin_remote_api' });
    expect(parseBridgeLogLine('thread panicked')).toEqual({ level: 'info', message: 'thread panicked' });
  });
});
