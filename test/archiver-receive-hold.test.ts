import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataArchiver } from '../src/archiver.js';
import { decodeHeros, encodeHeros } from '../src/heros/cbor.js';
import type { PyValue } from '../src/heros/values.js';
import { failTimes, ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

/**
 * A sample as a bus with a receive budget hands it over (Sample.hold): records when the
 * archiver holds it and when it lets go, and what `probe` said at that moment.
 */
function heldSample(value: PyValue, probe: () => unknown = () => undefined) {
  const raw = encodeHeros(value);
  const log = { holds: 0, letGos: 0, atLetGo: undefined as unknown };
  const sample = {
    raw,
    owned: true,
    key: '@object/heros/cam/frame',
    receivedAt: Date.now(),
    hold: () => {
      log.holds++;
      return () => {
        log.letGos++;
        log.atLetGo = probe();
      };
    },
  };
  return { sample, log, value: decodeHeros(raw) };
}

describe('an archiver holds each sample against the bus receive budget until it is done with the event', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it.each(['memory', 'spool'])('durability %s: held at once, let go exactly once and only after its file exists', async (durability) => {
    const t = await tempDir();
    const { boss } = await startBoss(
      { _id: 'cam', classname: 'JsonArchiver', arguments: { object_selector: 'cam', event_name: 'frame', durability, save_template: `${t.dir}/{{ seq }}` } },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const actor = boss.actor('cam') as DataArchiver;
    const samples = Array.from({ length: 30 }, (_, seq) => heldSample([{ seq }, { seq }], () => existsSync(path.join(t.dir, String(seq)))));
    for (const s of samples) {
      actor.feed('cam', s.value, s.sample);
      expect(s.log.holds).toBe(1);
    }
    await until(() => boss.status()[0]?.stats?.stored === 30, 20_000, 'all stored');
    await until(() => samples.every((s) => s.log.letGos === 1), 5_000, 'every sample let go');
    expect(samples.map((s) => s.log.atLetGo)).toEqual(samples.map(() => true));
    // Nothing lets go twice, also after the spool acks.
    await new Promise((r) => setTimeout(r, 100));
    expect(samples.map((s) => s.log.letGos)).toEqual(samples.map(() => 1));
  });

  it('a malformed event is let go once its dead-letter record is written', async () => {
    const t = await tempDir();
    const { boss } = await startBoss({ _id: 'cam', classname: 'JsonArchiver', arguments: { object_selector: 'cam', event_name: 'frame', save_template: `${t.dir}/{{ seq }}` } }, { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const actor = boss.actor('cam') as DataArchiver;
    const deadDir = path.join(t.dir, '.heros-archiver', 'dead-letter', 'cam');
    const s = heldSample('not a list', () => existsSync(deadDir) && readdirSync(deadDir).length > 0);
    actor.feed('cam', s.value, s.sample);
    await until(() => s.log.letGos === 1, 5_000, 'let go');
    expect(s.log.holds).toBe(1);
    expect(boss.status()[0]?.stats?.deadLettered).toBe(1);
  });

  it('an event whose store fails is let go at the first failure (one failing actor must not hold the budget), and still stored on retry', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('flaky-hold', failTimes(2));
    const { boss } = await startBoss(scriptedEntry('flaky-hold', { max_retries: 5, retry_delay_ms: 300, retry_max_delay_ms: 300 }), { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const actor = boss.actor('flaky-hold') as DataArchiver;
    const s = heldSample([7, { seq: 7 }], () => ScriptedArchiver.stored.get('flaky-hold')?.length ?? 0);
    actor.feed('cam', s.value, s.sample);
    await until(() => s.log.letGos === 1, 5_000, 'let go');
    // Let go before it was stored: at the first failure, not after the retries.
    expect(s.log.atLetGo).toBe(0);
    await until(() => (ScriptedArchiver.stored.get('flaky-hold')?.length ?? 0) === 1, 10_000, 'stored on retry');
    expect(s.log.letGos).toBe(1);
  });

  it('events beyond the memory budget are let go once their spool record is written, and all are stored', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('slow-hold', () => new Promise((r) => setTimeout(r, 20)));
    const { boss } = await startBoss(scriptedEntry('slow-hold', { memory_budget_events: 2 }), { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const actor = boss.actor('slow-hold') as DataArchiver;
    const samples = Array.from({ length: 20 }, (_, seq) => heldSample([seq, { seq }], () => ScriptedArchiver.stored.get('slow-hold')?.length ?? 0));
    for (const s of samples) actor.feed('cam', s.value, s.sample);
    await until(() => samples.every((s) => s.log.letGos === 1), 10_000, 'every sample let go');
    // The last ones were spooled and let go long before the slow stores reached them.
    expect(samples[19]!.log.atLetGo as number).toBeLessThan(19);
    await until(() => (ScriptedArchiver.stored.get('slow-hold')?.length ?? 0) === 20, 20_000, 'all stored');
    expect(ScriptedArchiver.stored.get('slow-hold')!.map((e) => e.payload)).toEqual(samples.map((_, i) => i));
  });
});
