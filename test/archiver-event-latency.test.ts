import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActorMetrics } from '../src/observer.js';
import { ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

/** ActorMetrics that records every observation. */
function recordingMetrics(): ActorMetrics & { stores: number[]; latencies: number[] } {
  const stores: number[] = [];
  const latencies: number[] = [];
  return {
    stores,
    latencies,
    observeStore: (_actor, s) => stores.push(s),
    observeEventLatency: (_actor, s) => latencies.push(s),
    recordWrite: () => {},
  };
}

describe('event latency (accepted → stored)', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('covers the wait behind a slow store and the retries, not only the successful store', async () => {
    const t = await tempDir();
    const metrics = recordingMetrics();
    // Event 1: its store takes 150 ms. Event 2 waits behind it (concurrency 1), fails once,
    // waits its backoff (20–40 ms with jitter) and is then stored at once.
    ScriptedArchiver.scripts.set('lat', async (attempt, payload) => {
      if (payload === 1) await sleep(150);
      else if (attempt === 1) throw new Error('transient');
    });
    const { boss, publish } = await startBoss(scriptedEntry('lat', { concurrency: 1, retry_delay_ms: 40, retry_max_delay_ms: 40 }), { baseDir: t.dir, metrics });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('cam', 'frame', [1, {}]);
    await publish('cam', 'frame', [2, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 2);
    expect(boss.status()[0]?.stats).toMatchObject({ stored: 2, retried: 1, deadLettered: 0 });

    // One observation per stored event (a failed attempt observes nothing).
    expect(metrics.stores).toHaveLength(2);
    expect(metrics.latencies).toHaveLength(2);
    const [slowStore, quickStore] = metrics.stores as [number, number];
    const [first, second] = metrics.latencies as [number, number];
    expect(slowStore).toBeGreaterThanOrEqual(0.14);
    expect(quickStore).toBeLessThan(0.1);
    // The first event's latency is its store; the second's adds the wait and the backoff.
    expect(first).toBeGreaterThanOrEqual(slowStore);
    expect(second).toBeGreaterThanOrEqual(0.14 + 0.019);
    expect(second).toBeGreaterThan(quickStore);
  });
});
