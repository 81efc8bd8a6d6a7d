import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('a burst beyond the memory budget', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it.each(['memory', 'spool'])('spills to the disk spool and stores every event in order (durability %s)', async (durability) => {
    const t = await tempDir();
    const id = `burst-${durability}`;
    ScriptedArchiver.stored.delete(id);
    let maxInFlight = 0;
    let gate = false;
    ScriptedArchiver.scripts.set(id, async () => {
      // Hold stores back until the whole burst has arrived, so that it must spill.
      await until(() => gate, 30_000);
    });
    const { boss, publish } = await startBoss(scriptedEntry(id, { durability, memory_budget_events: 20, memory_budget_bytes: 64 * 1024 }), { baseDir: t.dir });
    cleanup = async () => {
      gate = true;
      await boss.stop();
      await t.cleanup();
    };
    const n = 500; // 25x the budget
    for (let i = 0; i < n; i++) await publish('cam', 'frame', [i, { i, pad: 'x'.repeat(200) }]);
    await until(() => boss.status()[0]?.stats?.received === n, 30_000);
    // Written to the spool (its bytes counted), with at most the budget held in memory.
    await until(() => (boss.status()[0]?.stats?.spooled ?? 0) >= n - 20 && (boss.status()[0]?.stats?.spoolBytes ?? 0) > 0, 30_000, 'burst spooled');
    const during = boss.status()[0]!.stats!;
    maxInFlight = during.pending - during.spooled;
    expect(maxInFlight).toBeLessThanOrEqual(20);
    gate = true;
    await until(() => boss.status()[0]?.stats?.stored === n, 60_000, 'all stored');
    expect(ScriptedArchiver.stored.get(id)?.map((s) => s.payload)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(boss.status()[0]?.stats).toMatchObject({ refused: 0, deadLettered: 0, pending: 0, spooled: 0 });
  });

  it('spooled events of every size (each form of the CBOR length) come back byte for byte', async () => {
    const t = await tempDir();
    const id = 'sizes';
    ScriptedArchiver.stored.delete(id);
    let gate = false;
    ScriptedArchiver.scripts.set(id, async () => {
      await until(() => gate, 30_000);
    });
    const { boss, publish } = await startBoss(scriptedEntry(id, { durability: 'spool', memory_budget_events: 1, memory_budget_bytes: 1024 }), { baseDir: t.dir });
    cleanup = async () => {
      gate = true;
      await boss.stop();
      await t.cleanup();
    };
    // Raw events of 3 bytes ([0, {}]), under 256, under 64 KiB and over 64 KiB.
    const pads = [-1, 0, 10, 200, 300, 60_000, 70_000, 300_000];
    for (let i = 0; i < pads.length; i++) await publish('cam', 'frame', pads[i]! < 0 ? [i, {}] : [i, { pad: 'p'.repeat(pads[i]!) }]);
    await until(() => boss.status()[0]?.stats?.durable === pads.length, 30_000, 'all durable');
    gate = true;
    await until(() => boss.status()[0]?.stats?.stored === pads.length, 30_000, 'all stored');
    const stored = ScriptedArchiver.stored.get(id)!;
    expect(stored.map((s) => s.payload)).toEqual(pads.map((_, i) => i));
    expect(stored.map((s) => (typeof s.metadata.pad === 'string' ? s.metadata.pad.length : -1))).toEqual(pads);
    expect(boss.status()[0]?.stats).toMatchObject({ refused: 0, deadLettered: 0, pending: 0, spooled: 0 });
  });
});
