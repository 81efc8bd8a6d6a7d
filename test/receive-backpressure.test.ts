import { afterEach, describe, expect, it } from 'vitest';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('backpressure when the spool falls behind', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('pauses the bus while an actor has more than its memory budget unwritten, resumes, and stores every event', async () => {
    const t = await tempDir();
    const { boss, bus, publish } = await startBoss(
      {
        _id: 'burst',
        classname: 'JsonArchiver',
        // A budget of 16 KiB: a burst of 4 MiB must spill, and the spool cannot write it at once.
        arguments: { object_selector: 'cam', event_name: 'frame', durability: 'spool', memory_budget_bytes: 16 * 1024, save_template: `${'{{ dir }}'}/{{ '%05d' % n }}.json`, default_metadata: { dir: t.dir } },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const stats = () => boss.status()[0]!.stats!;
    const n = 1000;
    const pad = 'x'.repeat(4000);
    let sawPaused = false;
    let heldWhilePaused = false;
    for (let i = 0; i < n; i++) {
      await publish('cam', 'frame', [{ n: i, pad }, { n: i }]);
      // Give the loop a turn now and then, as a socket would between reads.
      if (i % 20 === 19) {
        await new Promise((r) => setTimeout(r, 1));
        if (bus.receivePaused) {
          sawPaused = true;
          const before = stats().received;
          await new Promise((r) => setTimeout(r, 5));
          // Nothing is taken in while paused (unless it resumed meanwhile).
          if (bus.receivePaused && stats().received === before) heldWhilePaused = true;
        }
      }
    }
    await until(() => stats().stored === n, 60_000, 'every event stored');
    expect(sawPaused).toBe(true);
    expect(heldWhilePaused).toBe(true);
    const rs = boss.receiveStatus();
    expect(rs.pauses).toBeGreaterThanOrEqual(1);
    expect(rs.paused).toBe(false);
    expect(rs.pausedSeconds).toBeGreaterThan(0);
    expect(stats()).toMatchObject({ received: n, stored: n, deadLettered: 0, refused: 0, pending: 0 });
    expect(bus.receivePaused).toBe(false);
  });
});
