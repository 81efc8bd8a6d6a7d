import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pyFloat } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { runPython } from './helpers/python.js';

describe('JsonArchiver', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('writes json.dumps(payload, indent=4) with merged metadata, event metadata winning', async () => {
    const t = await tempDir();
    const { boss, publish } = await startBoss(
      {
        _id: 'log',
        classname: 'herostools.actor.JsonArchiver',
        arguments: {
          object_selector: 'sensor',
          event_name: 'reading',
          merge_metadata: true,
          default_metadata: { lab: 'B2', seq: 0 },
          save_template: "{{ lab }}/reading-{{ '%03d' % seq }}.json",
        },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('sensor', 'reading', [{ temperature: pyFloat(21), label: 'Ångström', values: [1, pyFloat(2), Number.NaN] }, { seq: 5 }]);
    await until(() => boss.status()[0]?.stats?.stored === 1);
    const written = await readFile(path.join(t.dir, 'B2', 'reading-005.json'), 'utf8');
    const expected = runPython(
      `import json, sys
sys.stdout.write(json.dumps({"temperature": 21.0, "label": "Ångström", "values": [1, 2.0, float("nan")], "metadata": {"lab": "B2", "seq": 5}}, indent=4))`,
    ).toString();
    expect(written).toBe(expected);
  });

  it("merges metadata in Python's key order: defaults first, the event's new keys after, keys like \"10\" and __proto__ included", async () => {
    const t = await tempDir();
    const { boss, publish } = await startBoss(
      {
        _id: 'order',
        classname: 'JsonArchiver',
        arguments: { object_selector: 's', event_name: 'e', merge_metadata: true, default_metadata: { lab: 'B2', seq: 0, z: 1 }, save_template: 'm-{{ seq }}.json' },
      },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('s', 'e', [{ v: 1 }, { seq: 5, a: 2 }]);
    await publish('s', 'e', [{ v: 2 }, new Map<string, unknown>([['10', 1], ['seq', 6], ['2', 3], ['__proto__', 4]]) as never]);
    await publish('s', 'e', [{ v: 3 }, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 3);
    const expected = runPython(
      `import json, sys
d = {"lab": "B2", "seq": 0, "z": 1}
out = [json.dumps({"v": 1, "metadata": d | {"seq": 5, "a": 2}}, indent=4),
       json.dumps({"v": 2, "metadata": d | {"10": 1, "seq": 6, "2": 3, "__proto__": 4}}, indent=4),
       json.dumps({"v": 3, "metadata": d}, indent=4)]
sys.stdout.write("\\0".join(out))`,
    )
      .toString()
      .split('\0');
    expect(await Promise.all([5, 6, 0].map((seq) => readFile(path.join(t.dir, `m-${seq}.json`), 'utf8')))).toEqual(expected);
  });

  it('dead-letters a non-dict payload when merge_metadata is set', async () => {
    const t = await tempDir();
    const { boss, publish } = await startBoss(
      { _id: 'log2', classname: 'JsonArchiver', arguments: { object_selector: 's', event_name: 'e', merge_metadata: true, save_template: 'x.json' } },
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('s', 'e', [[1, 2], {}]);
    await until(() => boss.status()[0]?.stats?.deadLettered === 1);
  });
});
