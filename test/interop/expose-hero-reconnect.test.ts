import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exposeBoss, type ExposedBoss } from '../../src/boss-hero.js';
import type { BusEvent } from '../../src/bus/bus.js';
import { ZenohBus } from '../../src/bus/zenoh.js';
import { pythonBin, repoRoot } from '../helpers/python.js';
import { recordingLogger, startTestBridge, stopAll, uniqueName, waitFor, type TestBridge } from './helpers.js';
import { loopbackPeerConfig, startGroupProcess } from './processes.js';

/** Runs hero-client.py --probe against `endpoint`; resolves with its "probe" message. */
async function probe(endpoint: string, name: string): Promise<Record<string, unknown>> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', HEROS_ZENOH_CONFIG: JSON.stringify(loopbackPeerConfig(endpoint)) };
  delete env.RUST_LOG;
  const script = path.join(repoRoot, 'test', 'interop', 'python', 'hero-client.py');
  const client = startGroupProcess('hero-probe', pythonBin(), [script, '--probe', name], { env });
  const exit = await client.exited;
  const line = client.stdout.find((l) => l.includes('"step": "probe"'));
  if (exit.code !== 0 || !line) throw new Error(`hero-client.py --probe failed (code ${exit.code})\n${client.tail(60)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

describe('an exposed HERO comes back after the bridge restarts', () => {
  let tb: TestBridge;
  let bus: ZenohBus;
  let exposed: ExposedBoss;
  const name = uniqueName('archiver-daemon');

  beforeAll(async () => {
    tb = await startTestBridge();
    bus = await ZenohBus.connect({ url: tb.url, logger: recordingLogger('expose-reconnect '), heartbeatIntervalMs: 500 });
    const control = {
      status: () => [{ id: 'a1', classname: 'JsonArchiver', state: 'stopped' }],
      startActor: async () => undefined,
      stopActor: async () => undefined,
      startAll: async () => undefined,
      stopAll: async () => undefined,
      refresh: async () => undefined,
    };
    exposed = await exposeBoss(bus, control, { name });
  });

  afterAll(async () => {
    await exposed?.close();
    await bus?.close();
    await stopAll();
  });

  test('queryables and the liveliness token are declared again on the new session', async () => {
    const before = await probe(tb.endpoint, name);
    expect(before.alive).toEqual([`@object/heros/${name}/_health`]);
    expect(before.status).toMatchObject({ a1: { status: 'stopped', object: null } });

    const events: BusEvent[] = [];
    bus.onEvent((e) => events.push(e));
    process.kill(tb.bridge.pid, 'SIGKILL');
    await tb.bridge.exited;
    await waitFor(() => events.some((e) => e.type === 'disconnected'), 'a disconnected event', 20_000);
    const restarted = await startTestBridge({ wsPort: tb.wsPort, tcpPort: tb.tcpPort });
    await waitFor(() => events.some((e) => e.type === 'reconnected'), 'a reconnected event', 30_000);

    const after = await probe(restarted.endpoint, name);
    expect(after.alive).toEqual([`@object/heros/${name}/_health`]);
    expect(after.status).toMatchObject({ a1: { status: 'stopped', object: null, config: { _id: 'a1', tags: [`BOSS: ${name}`] } } });
    await restarted.bridge.stop();
  }, 120_000);
});
