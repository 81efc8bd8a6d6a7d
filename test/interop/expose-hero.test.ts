import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exposeBoss, type BossActorView, type BossControl, type ExposedBoss } from '../../src/boss-hero.js';
import type { Bus } from '../../src/bus/bus.js';
import { pythonBin, repoRoot } from '../helpers/python.js';
import { recordingLogger, startTestBus, stopAll, TRANSPORTS, uniqueName, waitFor } from './helpers.js';
import { loopbackPeerConfig, startGroupProcess } from './processes.js';

/** A supervisor stand-in: start/stop flip the state, as Boss does once the actor ran or drained. */
function fakeBoss(ids: { running: string; stopped: string }): BossControl & { calls: string[] } {
  const calls: string[] = [];
  const actors: (BossActorView & { state: string })[] = [
    {
      id: ids.running,
      classname: 'herostools.actor.ArrayArchiver',
      state: 'running',
      stats: { received: 7, stored: 7, deadLettered: 0 },
      config: { _id: ids.running, classname: 'herostools.actor.ArrayArchiver', arguments: { object_selector: 'cam', event_name: 'frame' } },
    },
    { id: ids.stopped, classname: 'JsonArchiver', state: 'stopped', stats: { received: 0, stored: 0 } },
  ];
  const set = (id: string, state: string): void => {
    const a = actors.find((x) => x.id === id);
    if (!a) throw new Error(`no actor ${id}`);
    a.state = state;
  };
  return {
    calls,
    status: () => actors,
    startActor: async (id) => (calls.push(`start ${id}`), set(id, 'running')),
    stopActor: async (id) => (calls.push(`stop ${id}`), set(id, 'stopped')),
    startAll: async () => void calls.push('startAll'),
    stopAll: async () => void calls.push('stopAll'),
    refresh: async () => void calls.push('refresh'),
  };
}

describe.each(TRANSPORTS)('--expose: the daemon and its actors are HEROs to Python tools (%s)', (transport) => {
  let endpoint: string;
  let bus: Bus & { close(): Promise<void> };
  let exposed: ExposedBoss;
  const daemon = uniqueName('archiver-daemon');
  const running = uniqueName('cam-archiver');
  const stopped = uniqueName('temps-archiver');
  const boss = fakeBoss({ running, stopped });

  beforeAll(async () => {
    ({ bus, endpoint } = await startTestBus(transport, recordingLogger(`expose ${transport} `)));
    exposed = await exposeBoss(bus, boss, { name: daemon, pkgVersions: { 'heros-archiver': '0.1.0' }, syncIntervalMs: 200 });
  });

  afterAll(async () => {
    await exposed?.close();
    await bus?.close();
    await stopAll();
  });

  test('HEROObserver finds them; RemoteHERO calls status/stop_hero/start_hero with BOSSRemote results', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', HEROS_ZENOH_CONFIG: JSON.stringify(loopbackPeerConfig(endpoint)) };
    delete env.RUST_LOG;
    const script = path.join(repoRoot, 'test', 'interop', 'python', 'hero-client.py');
    const client = startGroupProcess('hero-client', pythonBin(), [script, daemon, running, stopped], { env });
    const steps = (): Record<string, Record<string, unknown>> => {
      const out: Record<string, Record<string, unknown>> = {};
      for (const line of client.stdout) {
        try {
          const msg = JSON.parse(line) as Record<string, unknown>;
          out[String(msg.step)] = msg;
        } catch {
          // not ours
        }
      }
      return out;
    };
    await waitFor(() => 'done' in steps() || 'error' in steps() || client.exit() !== undefined, 'the Python client to finish', 90_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${client.tail(60)}`);
    });
    const s = steps();
    expect(s.error, client.tail(60)).toBeUndefined();
    expect(s.done, client.tail(60)).toBeDefined();

    // Discovery realm-wide: the descriptor LocalHERO would send, for the daemon and the running actor.
    const known = s.discovered!.known as Record<string, { class: string; tags: string[]; proto_version: number; implements: string[] }>;
    expect(known[daemon]).toEqual({
      class: 'boss.boss.BOSSRemote_HERO',
      proto_version: 1.0,
      implements: [],
      tags: [`BOSS: ${daemon}`, '_pkg_versions:{"heros-archiver": "0.1.0"}', '_proto_version:1.0'].sort(),
    });
    expect(known[running]).toMatchObject({ class: 'herostools.actor.ArrayArchiver_HERO', tags: expect.arrayContaining([`BOSS: ${daemon}`]) });
    expect(known[stopped]).toBeUndefined();

    expect(s.capabilities!.caps).toEqual({
      status: [],
      start_hero: ['name'],
      stop_hero: ['name'],
      start_all: [],
      stop_all: [],
      refresh_hero_sources: ['auto_start'],
    });
    expect(s.status!.value).toEqual({
      [running]: {
        config: { _id: running, classname: 'herostools.actor.ArrayArchiver', arguments: { object_selector: 'cam', event_name: 'frame' }, tags: [`BOSS: ${daemon}`] },
        object: null,
        status: 'running',
        state: 'running',
        stats: { received: 7, stored: 7, deadLettered: 0 },
      },
      [stopped]: {
        config: { _id: stopped, classname: 'JsonArchiver', tags: [`BOSS: ${daemon}`] },
        object: null,
        status: 'stopped',
        state: 'stopped',
        stats: { received: 0, stored: 0 },
      },
    });

    // BOSSRemote's start_hero/stop_hero return None; the actor HEROs follow (liveliness).
    expect(s.stop_hero!.value).toBeNull();
    expect(s.removed!.known).not.toContain(running);
    expect(s.start_hero!.value).toBeNull();
    expect(s.added!.known).toContain(stopped);
    expect(boss.calls).toEqual([`stop ${running}`, `start ${stopped}`]);
    expect(s.actor_stats!.value).toEqual({ received: 0, stored: 0 });
    expect(s.actor_stats!.tags).toEqual(expect.arrayContaining([`BOSS: ${daemon}`, '_proto_version:1.0']));
    const after = s.status_after!.value as Record<string, { status: string }>;
    expect(after[running]!.status).toBe('stopped');
    expect(after[stopped]!.status).toBe('running');
    // An unknown name is an error reply: RemoteHERO logs it and returns None.
    expect(s.unknown!.value).toBeNull();
    expect(client.stderr.join('\n')).toContain('HERO with name no-such-actor not run by this BOSS');
    await client.exited;
  }, 120_000);
});
