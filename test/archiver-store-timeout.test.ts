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

  it('aborts only stores past their deadline, never before it, and each once', async () => {
    const t = await tempDir();
    const aborted: { payload: unknown; afterMs: number; attempt: number }[] = [];
    ScriptedArchiver.stored.delete('mixed');
    ScriptedArchiver.scripts.set('mixed', (attempt, payload, signal) => {
      const began = performance.now();
      // Even payloads finish well inside the timeout; odd ones hang on their first attempt.
      if ((payload as number) % 2 === 0 || attempt > 1) return new Promise((r) => setTimeout(r, 5));
      return new Promise<void>((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted.push({ payload, afterMs: performance.now() - began, attempt });
          reject(signal.reason as Error);
        }),
      );
    });
    const { boss, publish } = await startBoss(scriptedEntry('mixed', { store_timeout_ms: 80, concurrency: 8, max_retries: 2 }), { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    for (let i = 0; i < 20; i++) await publish('cam', 'frame', [i, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 20, 30_000, 'all stored');
    expect(aborted.map((a) => a.payload).sort((a, b) => (a as number) - (b as number))).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    for (const a of aborted) {
      expect(a.attempt).toBe(1);
      expect(a.afterMs).toBeGreaterThanOrEqual(79); // timers may fire a fraction of a ms early
    }
    expect(boss.status()[0]?.stats).toMatchObject({ retried: 10, deadLettered: 0 });
  });
});
