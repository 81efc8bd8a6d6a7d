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
