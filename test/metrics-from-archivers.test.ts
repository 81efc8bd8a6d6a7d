import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Boss, prepareActors } from '../src/boss.js';
import { MemoryBus } from '../src/bus/memory.js';
import { encodeHeros } from '../src/heros/cbor.js';
import { silentLogger } from '../src/log.js';
import { parseManifests } from '../src/manifest.js';
import { createMetrics } from '../src/metrics.js';
import { tempDir, until } from './helpers/harness.js';

describe('archivers feed the metrics', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('counts bytes written and observes store latency per actor', async () => {
    const t = await tempDir();
    const bus = new MemoryBus();
    let boss: Boss | undefined;
    const metrics = createMetrics({ actors: () => boss?.status() ?? [], defaultMetrics: false });
    boss = new Boss({ bus, logger: silentLogger(), metrics, stateDir: path.join(t.dir, 'state') });
    cleanup = async () => {
      await boss?.stop();
      await t.cleanup();
    };
    const entries = parseManifests([
      { source: 'm.json', baseDir: t.dir, text: JSON.stringify({ _id: 'log', classname: 'JsonArchiver', arguments: { object_selector: '*', event_name: 'e', save_template: `${t.dir}/out/{{ n }}.json` } }) },
    ]);
    await boss.start(await prepareActors(entries));
    for (let n = 0; n < 3; n++) await bus.put('@object/heros/s/e', encodeHeros([{ n }, { n }]));
    await until(() => boss!.status()[0]?.stats?.stored === 3);
    const text = await metrics.metrics();
    // Each file is json.dumps({"n": 0}, indent=4): 14 bytes.
    expect(text).toContain('heros_archiver_written_bytes_total{actor="log"} 42');
    expect(text).toMatch(/heros_archiver_store_duration_seconds_count\{actor="log"\} 3/);
  });
});
