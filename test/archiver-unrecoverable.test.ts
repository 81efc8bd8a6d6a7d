import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { ScriptedArchiver, unrecoverable } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('an UnrecoverableError from store', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('dead-letters at once, without retries', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('picky', unrecoverable);
    const { boss, publish, deadLetterDir } = await startBoss(scriptedEntry('picky', { max_retries: 5 }), { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('cam', 'frame', [1, {}]);
    await until(() => boss.status()[0]?.stats?.deadLettered === 1);
    const [entry] = await new DeadLetterStore(deadLetterDir).list('picky');
    expect(entry?.record).toMatchObject({ code: 'ARCHIVER_PAYLOAD_MISMATCH', attempts: 1 });
    expect(boss.status()[0]?.stats?.retried).toBe(0);
  });
});
