import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatQuery, queryArrow } from '../src/arrow-query.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

async function collect(it: AsyncIterable<string | Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(parts);
}

describe('queryArrow', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('streams one source in a time range as json lines, csv or an Arrow stream', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'archive');
    const { boss, publish } = await startBoss(
      {
        _id: 'tel',
        classname: 'ArrowArchiver',
        arguments: { object_selector: '*', event_name: 'telemetry', concurrency: 4, batch_ms: 1, max_file_rows: 7, save_template: `${out}/{{ source }}/{{ date }}.arrow` },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    for (let i = 0; i < 40; i++) await publish(i % 2 === 0 ? 'robot-a' : 'robot-b', 'telemetry', [{ t: 1000 + i, label: `e,"${i}"` }, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 40);
    // Before stop: the current files are still .arrows streams, and are read too.

    const q = { dir: out, source: 'robot-a', start: 1010, end: 1030, timeColumn: 't' };
    const ts: number[] = [];
    for await (const batch of queryArrow(q)) for (const v of batch.getChild('t')!) ts.push(Number(v));
    expect(ts.sort((a, b) => a - b)).toEqual([1010, 1012, 1014, 1016, 1018, 1020, 1022, 1024, 1026, 1028]);

    await boss.stop();
    const lines = (await collect(formatQuery(queryArrow(q), 'json'))).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((r) => r.t).sort()).toEqual(ts);
    expect(lines[0]).toMatchObject({ source: 'robot-a', label: expect.stringMatching(/^e,"\d+"$/) });
    expect(lines[0].received_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    const csv = (await collect(formatQuery(queryArrow(q), 'csv'))).toString().trim().split('\n');
    expect(csv[0]).toBe('source,received_at,t,label');
    expect(csv.length).toBe(11);
    expect(csv[1]).toMatch(/^robot-a,\d{4}-.*Z,10\d\d,"e,""\d+"""$/);

    const ipc = path.join(t.dir, 'q.arrows');
    await writeFile(ipc, await collect(formatQuery(queryArrow(q), 'arrow')));
    const py = runPython(`import sys, pyarrow.ipc as ipc
t = ipc.open_stream(sys.argv[1]).read_all()
print(t.num_rows, sorted(t.column('t').to_pylist()) == list(range(1010, 1030, 2)), set(t.column('source').to_pylist()))`, '', [ipc]).toString().trim();
    expect(py).toBe("10 True {'robot-a'}");
  });
});
