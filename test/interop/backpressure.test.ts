/**
 * Backpressure with a real Python HERO: an actor whose memory budget is tiny (1 KiB) is "a
 * budget behind" as soon as a spool write is pending, so a burst makes the daemon pause and
 * resume intake many times. Every event must still be archived exactly once: what waited while
 * paused waited in the bridge (bridge transport) or in the receive spill file (in-process
 * session), not lost.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Bus } from '../../src/bus/bus.js';
import { Boss, prepareActors } from '../../src/boss.js';
import { silentLogger } from '../../src/log.js';
import { parseManifests } from '../../src/manifest.js';
import { tempDir } from '../helpers/harness.js';
import { recordingLogger, startHeroPeer, startTestBus, stopAll, TRANSPORTS, uniqueName, waitFor, type HeroPeer } from './helpers.js';

describe.each(TRANSPORTS)('backpressure with a real HERO (%s)', (transport) => {
  const env = {} as { bus: Bus & { close(): Promise<void>; reconnects?: number }; peer: HeroPeer };
  beforeAll(async () => {
    const tb = await startTestBus(transport, recordingLogger(`backpressure ${transport} `));
    env.bus = tb.bus;
    env.peer = await startHeroPeer(uniqueName('cam'), tb.endpoint);
  });
  afterAll(async () => {
    await env.bus?.close();
    await stopAll();
  });

  test('pauses and resumes reading under a burst; every event of the burst is archived once', async () => {
    const t = await tempDir();
    try {
      const manifest = {
        _id: 'frames',
        classname: 'JsonArchiver',
        arguments: {
          object_selector: env.peer.name,
          event_name: 'frame',
          durability: 'spool',
          memory_budget_bytes: 1024,
          default_metadata: { dir: path.join(t.dir, 'out') },
          save_template: "{{ dir }}/{{ '%05d' % frame }}.json",
        },
      };
      const boss = new Boss({ bus: env.bus, logger: silentLogger(), stateDir: path.join(t.dir, 'state'), baseDir: t.dir });
      await boss.start(await prepareActors(parseManifests([{ source: 'm.json', baseDir: t.dir, text: JSON.stringify(manifest) }])));
      try {
        await env.peer.command('wait_matching frame');
        const n = 2000;
        const sent = (await env.peer.command(`emit ${n}`, 120_000)).filter((m) => m.type === 'sent');
        expect(sent).toHaveLength(n);
        const stats = () => boss.status()[0]!.stats!;
        await waitFor(() => stats().received >= n && stats().pending === 0, `all ${n} events stored (${JSON.stringify(stats())})`, 120_000, 50);
        expect(stats()).toMatchObject({ received: n, stored: n, deadLettered: 0, refused: 0 });
        const status = boss.receiveStatus();
        expect(status.pauses).toBeGreaterThan(0);
        expect(status.paused).toBe(false);
        const files = (await readdir(path.join(t.dir, 'out'))).filter((f) => !f.startsWith('.')).sort();
        expect(files).toEqual(Array.from({ length: n }, (_, i) => `${String(i).padStart(5, '0')}.json`));
        for (const i of [0, n >> 1, n - 1]) {
          expect(JSON.parse(await readFile(path.join(t.dir, 'out', files[i]!), 'utf8'))).toEqual([0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => i + 4 * r + c)));
        }
        if (transport === 'bridge') expect(env.bus.reconnects).toBe(0);
        console.log(`backpressure (${transport}): ${n} events, ${status.pauses} pauses, ${status.pausedSeconds.toFixed(2)} s paused, all archived once`);
      } finally {
        await boss.stop();
      }
    } finally {
      await t.cleanup();
    }
  }, 300_000);
});
