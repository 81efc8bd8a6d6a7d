import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../src/http.js';
import { pyFloat } from '../src/heros/values.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

describe('HTTP archive API of ArrowArchiver actors', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('lists sources and streams one source\'s events in a time range', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'archive');
    const { boss, publish } = await startBoss(
      { _id: 'robots', classname: 'ArrowArchiver', arguments: { object_selector: '*', event_name: 'position', concurrency: 8, batch_ms: 1, save_template: `${out}/{{ source }}.arrow` } },
      { baseDir: t.dir },
    );
    const http = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      readiness: () => ({ ready: true }) as never,
      arrowQuery: (id) => (id === 'robots' ? out : undefined),
    });
    cleanup = async () => {
      await http.close();
      await boss.stop();
      await t.cleanup();
    };
    for (let i = 0; i < 12; i++) await publish(['r2d2', 'c3po', 'bb8'][i % 3]!, 'position', [{ ts: 1000 + i, x: pyFloat(i), y: pyFloat(-i) }, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 12);

    const sources = await (await fetch(`${http.url}/api/actors/robots/sources`)).json();
    expect(sources).toEqual({ actor: 'robots', sources: ['bb8', 'c3po', 'r2d2'] });

    const res = await fetch(`${http.url}/api/actors/robots/sources/r2d2/events?start_time=1003&end_time=1010&time_column=ts`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const rows = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.source, r.ts, r.x]).sort()).toEqual([
      ['r2d2', 1003, 3],
      ['r2d2', 1006, 6],
      ['r2d2', 1009, 9],
    ]);

    expect((await fetch(`${http.url}/api/actors/nope/sources`)).status).toBe(404);
    expect((await fetch(`${http.url}/api/actors/robots/sources/r2d2/events?start_time=yesterday`)).status).toBe(400);
    expect((await fetch(`${http.url}/api/actors/robots/sources/r2d2/events?format=xml`)).status).toBe(400);
  });
});
