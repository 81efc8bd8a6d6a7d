import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { hang, ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('stop drains the queue', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('stores every queued event before stop() resolves', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('slow', async () => {
      await new Promise((r) => setTimeout(r, 5));
    });
    ScriptedArchiver.stored.delete('slow');
    const { boss, publish } = await startBoss(scriptedEntry('slow'), { baseDir: t.dir, drainTimeoutMs: 10_000 });
    cleanup = () => t.cleanup();
    for (let i = 0; i < 50; i++) await publish('cam', 'frame', [i, { i }]);
    await until(() => boss.status()[0]?.stats?.received === 50);
    await boss.stop();
    expect(ScriptedArchiver.stored.get('slow')?.map((s) => s.payload)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(boss.status()[0]?.state).toBe('stopped');
  });

  it('leaves what the drain timeout did not store in the spool, and stores it first at the next start', async () => {
    const t = await tempDir();
    const stateDir = `${t.dir}/state`;
    ScriptedArchiver.scripts.set('stuck', hang);
    ScriptedArchiver.stored.delete('stuck');
    const first = await startBoss(scriptedEntry('stuck', { store_timeout_ms: 600_000 }), { baseDir: t.dir, drainTimeoutMs: 200, stateDir });
    cleanup = () => t.cleanup();
    for (let i = 0; i < 3; i++) await first.publish('cam', 'frame', [i, {}]);
    await until(() => first.boss.status()[0]?.stats?.received === 3);
    await first.boss.stop();
    expect(await new DeadLetterStore(first.deadLetterDir).list('stuck')).toEqual([]);

    // Next start: the store works again; the three events come out of the spool, in order.
    ScriptedArchiver.scripts.delete('stuck');
    const second = await startBoss(scriptedEntry('stuck'), { baseDir: t.dir, stateDir });
    await until(() => second.boss.status()[0]?.stats?.stored === 3);
    await second.publish('cam', 'frame', [3, {}]);
    await until(() => second.boss.status()[0]?.stats?.stored === 4);
    expect(ScriptedArchiver.stored.get('stuck')?.map((s) => s.payload)).toEqual([0, 1, 2, 3]);
    await second.boss.stop();
    expect(second.boss.status()[0]?.stats).toMatchObject({ pending: 0, spooled: 0, deadLettered: 0 });
  });
});
