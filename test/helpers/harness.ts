import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Boss, prepareActors } from '../../src/boss.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { encodeHeros } from '../../src/heros/cbor.js';
import type { PyValue } from '../../src/heros/values.js';
import { silentLogger } from '../../src/log.js';
import { parseManifests } from '../../src/manifest.js';
import type { ActorMetrics } from '../../src/observer.js';

/** A temporary folder removed by `cleanup()`. */
export async function tempDir(prefix = 'ha-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A Boss on a MemoryBus running `manifest` (an entry or an array of entries). */
export async function startBoss(
  manifest: unknown,
  opts: { baseDir: string; root?: string; drainTimeoutMs?: number; realm?: string; deadLetterDir?: string; stateDir?: string; metrics?: ActorMetrics },
): Promise<{ boss: Boss; bus: MemoryBus; deadLetterDir: string; publish: (source: string, event: string, value: PyValue) => Promise<void> }> {
  const entries = parseManifests([{ source: 'test.json', baseDir: opts.baseDir, text: JSON.stringify(manifest) }]);
  const prepared = await prepareActors(entries);
  const bus = new MemoryBus();
  const deadLetterDir = opts.deadLetterDir ?? path.join(opts.baseDir, 'dead-letter');
  const boss = new Boss({
    bus,
    logger: silentLogger(),
    baseDir: opts.baseDir,
    root: opts.root ?? '/',
    stateDir: opts.stateDir ?? path.join(opts.deadLetterDir ? path.dirname(opts.deadLetterDir) : opts.baseDir, 'state'),
    deadLetterDir,
    drainTimeoutMs: opts.drainTimeoutMs ?? 5_000,
    realm: opts.realm ?? 'heros',
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  await boss.start(prepared);
  const realm = opts.realm ?? 'heros';
  return {
    boss,
    bus,
    deadLetterDir,
    publish: (source, event, value) => bus.put(`@object/${realm}/${source}/${event}`, encodeHeros(value)),
  };
}

/** Polls `cond` until it holds (or throws after `timeoutMs`). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
