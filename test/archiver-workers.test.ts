import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('the store queue', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it.each([1, 3, 64])('runs exactly `concurrency` stores at once (%i), starts them in arrival order and stores each event once', async (concurrency) => {
    const t = await tempDir();
    const id = `workers-${concurrency}`;
    ScriptedArchiver.stored.delete(id);
    const started: number[] = [];
    let running = 0;
    let maxRunning = 0;
    let gate = false;
    ScriptedArchiver.scripts.set(id, async (attempt, payload) => {
      started.push(payload as number);
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        // Held until the whole burst is queued; then stores of uneven length, and every 97th
        // event fails once (its retry goes to the back of the queue).
        await until(() => gate, 30_000);
        await new Promise((r) => setTimeout(r, (payload as number) % 3));
        if ((payload as number) % 97 === 0 && attempt === 1) throw new Error('transient');
      } finally {
        running--;
      }
    });
    const { boss, publish } = await startBoss(scriptedEntry(id, { concurrency, retry_delay_ms: 0, retry_max_delay_ms: 0 }), { baseDir: t.dir });
    cleanup = async () => {
      gate = true;
      await boss.stop();
      await t.cleanup();
    };
    const n = 600;
    for (let i = 0; i < n; i++) await publish('cam', 'frame', [i, {}]);
    await until(() => boss.status()[0]?.stats?.received === n, 30_000);
    await until(() => running === Math.min(concurrency, n), 30_000, 'stores started');
    gate = true;
    await until(() => boss.status()[0]?.stats?.stored === n, 60_000, 'all stored');
    expect(maxRunning).toBe(concurrency);
    const stored = ScriptedArchiver.stored.get(id)!.map((s) => s.payload as number);
    expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    // First attempts start in arrival order.
    const firsts = started.filter((p, i) => started.indexOf(p) === i);
    expect(firsts).toEqual(Array.from({ length: n }, (_, i) => i));
    if (concurrency === 1) {
      // One at a time: stored in order, except that a failed event comes after those queued before its retry.
      expect(stored.filter((p) => p % 97 !== 0)).toEqual(Array.from({ length: n }, (_, i) => i).filter((p) => p % 97 !== 0));
    }
    expect(boss.status()[0]?.stats).toMatchObject({ retried: Math.ceil(n / 97), deadLettered: 0, pending: 0 });
  });
});
