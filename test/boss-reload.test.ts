import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Boss, prepareActors, type PreparedActor } from '../src/boss.js';
import { MemoryBus } from '../src/bus/memory.js';
import { encodeHeros } from '../src/heros/cbor.js';
import { silentLogger } from '../src/log.js';
import { parseManifests } from '../src/manifest.js';
import { ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

function prepare(dir: string, manifest: unknown[]): Promise<PreparedActor[]> {
  return prepareActors(parseManifests([{ source: 'boss.json', baseDir: dir, text: JSON.stringify(manifest) }]));
}

const ids = ['steady', 'gone', 'moved', 'fresh'];

describe('Boss.reload', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('keeps an unchanged actor receiving through the reload (zero loss) and starts, stops and restarts the others', async () => {
    const t = await tempDir();
    const bus = new MemoryBus();
    const boss = new Boss({ bus, logger: silentLogger(), baseDir: t.dir, stateDir: path.join(t.dir, 'state'), drainTimeoutMs: 5_000 });
    cleanup = async () => {
      await boss.stop();
      for (const id of ids) ScriptedArchiver.stored.delete(id);
      await t.cleanup();
    };
    const steady = scriptedEntry('steady');
    const gone = scriptedEntry('gone');
    const moved = scriptedEntry('moved');
    expect(await boss.start(await prepare(t.dir, [steady, gone, moved]))).toBe(3);
    const steadyActor = boss.actor('steady');
    const movedActor = boss.actor('moved');
    const goneActor = boss.actor('gone');

    // Publish without pause from before the reload until after it.
    let published = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        published++;
        await bus.put('@object/heros/cam/frame', encodeHeros([published, {}]));
        if (published % 20 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    await until(() => published > 200, 5_000, 'publishing under way');

    const result = await boss.reload(
      await prepare(t.dir, [
        scriptedEntry('fresh'),
        steady,
        scriptedEntry('moved', { event_name: 'other' }),
      ]),
    );
    expect(result).toEqual({ added: ['fresh'], removed: ['gone'], changed: ['moved'], unchanged: ['steady'] });
    await until(() => (ScriptedArchiver.stored.get('fresh')?.length ?? 0) > 50, 5_000, 'the added actor receiving');
    publishing = false;
    await publisher;

    // Unchanged: the very same object, never unsubscribed, every event stored in order.
    expect(boss.actor('steady')).toBe(steadyActor);
    await until(() => ScriptedArchiver.stored.get('steady')?.length === published, 10_000, 'every event stored by the unchanged actor');
    expect(ScriptedArchiver.stored.get('steady')?.map((s) => s.payload)).toEqual(Array.from({ length: published }, (_, i) => i + 1));

    // Removed: stopped after draining what it had received.
    expect(boss.actor('gone')).toBeUndefined();
    const goneStats = (goneActor as unknown as { stats(): { received: number; stored: number; pending: number } }).stats();
    expect(goneStats.stored).toBe(goneStats.received);
    expect(goneStats.pending).toBe(0);

    // Changed: a new object with the new arguments; the old one drained before it stopped.
    expect(boss.actor('moved')).not.toBe(movedActor);
    const oldMoved = (movedActor as unknown as { stats(): { received: number; stored: number } }).stats();
    expect(oldMoved.stored).toBe(oldMoved.received);
    await bus.put('@object/heros/cam/other', encodeHeros(['x', {}]));
    await until(() => ScriptedArchiver.stored.get('moved')?.at(-1)?.payload === 'x', 5_000, 'the changed actor on its new event');

    expect(boss.status().map((s) => [s.id, s.state])).toEqual([
      ['fresh', 'running'],
      ['steady', 'running'],
      ['moved', 'running'],
    ]);
  });

  it('with autostart off lists the actors as stopped until startActor, and a reload leaves that to the operator', async () => {
    const t = await tempDir();
    const bus = new MemoryBus();
    const boss = new Boss({ bus, logger: silentLogger(), baseDir: t.dir, stateDir: path.join(t.dir, 'state') });
    cleanup = async () => {
      await boss.stop();
      for (const id of ids) ScriptedArchiver.stored.delete(id);
      await t.cleanup();
    };
    expect(await boss.start(await prepare(t.dir, [scriptedEntry('steady')]), { autostart: false })).toBe(0);
    expect(boss.status()).toMatchObject([{ id: 'steady', state: 'stopped' }]);
    expect(boss.actor('steady')).toBeUndefined();
    await boss.reload(await prepare(t.dir, [scriptedEntry('steady'), scriptedEntry('fresh')]));
    expect(boss.status().map((s) => [s.id, s.state])).toEqual([
      ['steady', 'stopped'],
      ['fresh', 'stopped'],
    ]);
    expect(await boss.startActor('fresh')).toBe('running');
    await bus.put('@object/heros/cam/frame', encodeHeros([1, {}]));
    await until(() => ScriptedArchiver.stored.get('fresh')?.length === 1, 5_000, 'started later, it archives');
    expect(ScriptedArchiver.stored.get('steady')).toBeUndefined();
    expect(await boss.stopActor('fresh')).toBe('stopped');
    expect(boss.status().map((s) => s.state)).toEqual(['stopped', 'stopped']);
    await expect(boss.startActor('nobody')).rejects.toMatchObject({ code: 'ARCHIVER_USAGE' });
  });

  it('does nothing once the supervisor is stopping', async () => {
    const t = await tempDir();
    const boss = new Boss({ bus: new MemoryBus(), logger: silentLogger(), baseDir: t.dir, stateDir: path.join(t.dir, 'state') });
    cleanup = t.cleanup;
    await boss.start(await prepare(t.dir, [scriptedEntry('steady')]));
    await boss.stop();
    expect(await boss.reload(await prepare(t.dir, [scriptedEntry('fresh')]))).toEqual({ added: [], removed: [], changed: [], unchanged: [] });
    expect(boss.status().map((s) => s.id)).toEqual(['steady']);
  });
});
