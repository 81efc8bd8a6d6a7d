import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { pyFloat, type PyValue } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

/** A reading as a HEROS datasource sends it (DatasourceReturnValue's keys, in its order). */
function reading(id: string, time: number, raw: number): Record<string, PyValue> {
  return { id, value: null, unit: 'None', inbound: -1, time: pyFloat(time), raw_value: pyFloat(raw), raw_unit: 'K', calibrated: false };
}

describe('ArrowArchiver on datasource events (observable_data)', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('writes one row per reading; an event with a bad or late reading is dead-lettered whole; repeated readings are duplicates', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'archive');
    const { boss, publish } = await startBoss(
      {
        _id: 'ds',
        classname: 'ArrowArchiver',
        arguments: { object_selector: '*', event_name: 'observable_data', batch_ms: 1, time_key: 'time', forward_only: true, unique_key: '{{ id }}@{{ time }}', save_template: `${out}/{{ source }}.arrow` },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    const first = [reading('T1', 1000.5, 3.25), reading('T2', 1000.5, 4)];
    const events: PyValue[] = [
      first,
      [reading('T1', 1001, 3.5), 5], // a reading that is not a dict
      [reading('T1', 1002, 3.75), reading('T2', 999, 4.5)], // T2 older than the watermark 1000.5
      first, // a re-delivery: both readings are duplicates
      [], // no readings
      { T1: 3 }, // not a list of readings at all
      [reading('T1', 1003, 3.875), reading('T2', 1003, 4.25), reading('T3', 1003, 77)],
    ];
    for (const e of events) await publish('cryostat', 'observable_data', e);
    await until(() => {
      const s = boss.status()[0]?.stats;
      return (s?.stored ?? 0) + (s?.deadLettered ?? 0) === events.length;
    }, 10_000);
    expect(boss.status()[0]?.stats).toMatchObject({ stored: 4, deadLettered: 3 });
    const dead = await new DeadLetterStore(path.join(t.dir, 'dead-letter')).list('ds');
    expect(dead.map((d) => d.record.code).sort()).toEqual(['ARCHIVER_EVENT_MALFORMED', 'ARCHIVER_LATE_EVENT', 'ARCHIVER_PAYLOAD_MISMATCH']);
    await boss.stop();
    const table = tableFromIPC(await readFile(path.join(out, 'cryostat.arrow')));
    const rows = table.toArray().map((r) => {
      const o = r.toJSON() as Record<string, unknown>;
      return [o.source, o.id, o.time, o.raw_value, o.raw_unit, o.calibrated, o.value];
    });
    expect(rows).toEqual([
      ['cryostat', 'T1', 1000.5, 3.25, 'K', false, null],
      ['cryostat', 'T2', 1000.5, 4, 'K', false, null],
      ['cryostat', 'T1', 1003, 3.875, 'K', false, null],
      ['cryostat', 'T2', 1003, 4.25, 'K', false, null],
      ['cryostat', 'T3', 1003, 77, 'K', false, null],
    ]);
    // Columns in the reading's order, after source and received_at (and before the key).
    expect(table.schema.fields.map((f) => f.name)).toEqual(['source', 'received_at', 'id', 'value', 'unit', 'inbound', 'time', 'raw_value', 'raw_unit', 'calibrated', '_key']);
  });
});
