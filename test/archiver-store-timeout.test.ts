import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { hang, ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('a store that hangs', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('is aborted after store_timeout_ms, retried, then dead-lettered; other actors keep storing', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('hangs', hang);
    ScriptedArchiver.scripts.delete('fine');
    ScriptedArchiver.stored.delete('fine');
    const { boss, publish, deadLetterDir } = await startBoss(
      [scriptedEntry('hangs', { store_timeout_ms: 50, max_retries: 1 }), scriptedEntry('fine')],
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('cam', 'frame', ['x', {}]);
    await until(() => boss.status()[0]?.stats?.deadLettered === 1);
    const [entry] = await new DeadLetterStore(deadLetterDir).list('hangs');
    expect(entry?.record).toMatchObject({ code: 'ARCHIVER_RETRIES_EXHAUSTED', attempts: 2 });
    expect(entry?.record.cause).toMatchObject({ code: 'ARCHIVER_STORE_TIMEOUT' });
    expect(ScriptedArchiver.stored.get('fine')).toHaveLength(1);
  });
});
