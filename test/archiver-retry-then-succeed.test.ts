import { afterEach, describe, expect, it } from 'vitest';
import { failTimes, ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('a store that fails N times then succeeds', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('is retried with backoff and stored once, nothing dead-lettered', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('flaky', failTimes(3));
    const { boss, publish } = await startBoss(scriptedEntry('flaky', { max_retries: 5 }), { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('cam', 'frame', [42, { frame: 1 }]);
    await until(() => (ScriptedArchiver.stored.get('flaky')?.length ?? 0) === 1);
    const [status] = boss.status();
    expect(status?.stats).toMatchObject({ received: 1, stored: 1, retried: 3, deadLettered: 0, pending: 0 });
    expect(ScriptedArchiver.stored.get('flaky')?.[0]).toMatchObject({ source: 'cam', payload: 42, metadata: { frame: 1 } });
  });
});
