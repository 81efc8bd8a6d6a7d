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

  it('dead-letters what is left when the drain timeout runs out (nothing lost)', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('stuck', hang);
    const { boss, publish, deadLetterDir } = await startBoss(scriptedEntry('stuck', { store_timeout_ms: 600_000 }), { baseDir: t.dir, drainTimeoutMs: 200 });
    cleanup = () => t.cleanup();
    for (let i = 0; i < 3; i++) await publish('cam', 'frame', [i, {}]);
    await until(() => boss.status()[0]?.stats?.received === 3);
    await boss.stop();
    const entries = await new DeadLetterStore(deadLetterDir).list('stuck');
    expect(entries.map((e) => e.record.code)).toEqual(['ARCHIVER_STOPPED_UNSTORED', 'ARCHIVER_STOPPED_UNSTORED', 'ARCHIVER_STOPPED_UNSTORED']);
  });
});
