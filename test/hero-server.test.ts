import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../src/bus/memory.js';
import { bossStatusDict, exposeBoss, uniqueInstanceName, type BossActorView, type BossControl } from '../src/boss-hero.js';
import { decodeHeros, encodeHeros } from '../src/heros/cbor.js';
import { bindArguments, exposeHero, heroNameProblem } from '../src/heros/hero-server.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Bytes heros 0.8.9 produces (heros.serdes.serialize) for the same capabilities / descriptor /
// error text; generated with the project's .venv.
const PY_CAPABILITIES =
  '83a4646e616d656673746174757366666c61766f72666d6574686f646a706172616d6574657273806b72657475726e5f74797065644e6f6e65a4646e616d656a73746172745f6865726f66666c61766f72666d6574686f646a706172616d657465727381a4646e616d65646e616d65647479706569756e646566696e65646764656661756c7469756e646566696e6564646b696e64016b72657475726e5f74797065644e6f6e65a4646e616d6574726566726573685f6865726f5f736f757263657366666c61766f72666d6574686f646a706172616d657465727381a4646e616d656a6175746f5f7374617274647479706564626f6f6c6764656661756c74f5646b696e64016b72657475726e5f74797065644e6f6e65';

describe('exposeHero on the in-process bus', () => {
  it('answers _discover, _capabilities and method calls as a LocalHERO does, with a _health token', async () => {
    const bus = new MemoryBus();
    const calls: unknown[] = [];
    const hero = await exposeHero(bus, {
      name: 'x',
      className: 'C',
      methods: {
        status: { call: () => ({ ok: true }) },
        start_hero: { params: [{ name: 'name' }], call: (_a, _k, bound) => void calls.push(bound.name) },
        refresh_hero_sources: { params: [{ name: 'auto_start', type: 'bool', default: true }], call: (_a, _k, b) => b.auto_start ?? null },
      },
    });
    expect(bus.livelinessTokens).toEqual(['@object/heros/x/_health']);

    const [caps] = await bus.get('@object/heros/x/_capabilities');
    expect(hex(caps!.payload)).toBe(PY_CAPABILITIES);

    const [disc] = await bus.get('@object/heros/*/_discover/**');
    expect(disc!.key).toBe('@object/heros/x/_discover');
    const d = decodeHeros(disc!.payload) as Record<string, unknown>;
    expect(Object.keys(d)).toEqual(['proto_version', 'name', 'class', 'implements', 'tags']);
    expect(hex(disc!.payload).startsWith('a56d70726f746f5f76657273696f6efb3ff0000000000000')).toBe(true);
    expect(d.name).toBe('x');
    expect(d.class).toBe('C');
    expect(d.implements).toEqual(new Set());
    expect(d.tags).toEqual(new Set(['_pkg_versions:{}', '_proto_version:1.0']));

    const [r1] = await bus.get('@object/heros/x/start_hero/**', encodeHeros([['cam'], {}]));
    expect(r1).toMatchObject({ key: '@object/heros/x/start_hero' });
    expect(decodeHeros(r1!.payload)).toBeNull();
    await bus.get('@object/heros/x/start_hero', encodeHeros([[], { name: 'kw' }]));
    expect(calls).toEqual(['cam', 'kw']);
    const [r2] = await bus.get('@object/heros/x/refresh_hero_sources', encodeHeros([[], {}]));
    expect(decodeHeros(r2!.payload)).toBe(true);

    // A wrong call is an error reply carrying Python's TypeError text, as reply_err sends it.
    const [bad] = await bus.get('@object/heros/x/start_hero', encodeHeros([[], {}]));
    expect(bad!.error).toBe(true);
    expect(String(decodeHeros(bad!.payload))).toMatch(/^start_hero\(\) missing 1 required argument: 'name'\n\n/);

    await hero.close();
    await hero.close();
    expect(bus.livelinessTokens).toEqual([]);
    expect(await bus.get('@object/heros/**')).toEqual([]);
  });

  it('binds arguments with Python rules', () => {
    const params = [{ name: 'a' }, { name: 'b', default: 2 }];
    expect(bindArguments('f', params, [1], {})).toEqual({ a: 1, b: 2 });
    expect(bindArguments('f', params, [], { a: 1, b: 3 })).toEqual({ a: 1, b: 3 });
    expect(() => bindArguments('f', params, [1, 2, 3], {})).toThrow('f() takes 2 positional arguments but 3 were given');
    expect(() => bindArguments('f', params, [1], { a: 1 })).toThrow("f() got multiple values for argument 'a'");
    expect(() => bindArguments('f', params, [], { c: 1 })).toThrow("f() got an unexpected keyword argument 'c'");
  });
});

describe('exposeBoss', () => {
  function fakeBoss(): BossControl & { actors: BossActorView[] } {
    const actors: (BossActorView & { state: string })[] = [
      { id: 'cam-a', classname: 'ArrayArchiver', state: 'running', stats: { received: 3, stored: 3 }, config: { _id: 'cam-a', classname: 'ArrayArchiver', arguments: { x: 1 } } },
      { id: 'temps', classname: 'JsonArchiver', state: 'stopped' },
    ];
    const set = (id: string, state: string): void => {
      const a = actors.find((x) => x.id === id);
      if (a) a.state = state;
    };
    return {
      actors,
      status: () => actors,
      startActor: async (id) => set(id, 'running'),
      stopActor: async (id) => set(id, 'stopped'),
      startAll: async () => actors.forEach((a) => (a.state = 'running')),
      stopAll: async () => actors.forEach((a) => (a.state = 'stopped')),
      refresh: async () => undefined,
    };
  }

  it('status() is BOSS.heros; start/stop return None and bring actor HEROs in line', async () => {
    const bus = new MemoryBus();
    const boss = fakeBoss();
    const exposed = await exposeBoss(bus, boss, { name: 'daemon', syncIntervalMs: 60_000 });
    expect(bus.livelinessTokens.sort()).toEqual(['@object/heros/cam-a/_health', '@object/heros/daemon/_health']);

    const [st] = await bus.get('@object/heros/daemon/status', encodeHeros([[], {}]));
    const status = decodeHeros(st!.payload) as Record<string, Record<string, unknown>>;
    expect(Object.keys(status)).toEqual(['cam-a', 'temps']);
    expect(status['cam-a']).toMatchObject({
      config: { _id: 'cam-a', classname: 'ArrayArchiver', arguments: { x: 1 }, tags: ['BOSS: daemon'] },
      object: null,
      status: 'running',
    });
    expect(status.temps).toMatchObject({ config: { _id: 'temps', classname: 'JsonArchiver', tags: ['BOSS: daemon'] }, object: null, status: 'stopped' });

    const [started] = await bus.get('@object/heros/daemon/start_hero', encodeHeros([['temps'], {}]));
    expect(decodeHeros(started!.payload)).toBeNull();
    expect(bus.livelinessTokens).toContain('@object/heros/temps/_health');
    await bus.get('@object/heros/daemon/stop_hero', encodeHeros([['cam-a'], {}]));
    expect(bus.livelinessTokens).not.toContain('@object/heros/cam-a/_health');

    const [unknown] = await bus.get('@object/heros/daemon/start_hero', encodeHeros([['nope'], {}]));
    expect(unknown!.error).toBe(true);
    expect(String(decodeHeros(unknown!.payload))).toContain('HERO with name nope not run by this BOSS');

    const [stats] = await bus.get('@object/heros/temps/stats', encodeHeros([[], {}]));
    expect(decodeHeros(stats!.payload)).toEqual({});

    await exposed.close();
    expect(bus.livelinessTokens).toEqual([]);
  });

  it('names itself like BOSS (<hostname>_<8 hex>) with a valid HERO name', () => {
    const name = uniqueInstanceName();
    expect(name).toMatch(/^.+_[0-9a-f]{8}$/);
    expect(name).not.toBe(uniqueInstanceName());
    expect(heroNameProblem(name)).toBeUndefined();
    expect(heroNameProblem('a/b')).toMatch(/contains/);
    expect(heroNameProblem('@x')).toMatch(/starts with @/);
  });

  it('maps actor states to BOSS status words', () => {
    const dict = bossStatusDict(
      ['starting', 'running', 'stopping', 'restarting', 'failed', 'stopped'].map((state) => ({ id: state, classname: 'C', state })),
      'b',
    );
    expect([...dict.values()].map((v) => (v as { status: string }).status)).toEqual(['running', 'running', 'running', 'failed', 'failed', 'stopped']);
  });
});
