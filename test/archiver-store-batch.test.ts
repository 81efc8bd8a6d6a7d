import path from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../src/errors.js';
import { BatchArchiver, type BatchScript } from './fixtures/batch-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

function batchEntry(id: string, args: Record<string, unknown> = {}) {
  return {
    _id: id,
    classname: `${path.join(repoRoot, 'test/fixtures/batch-archiver.ts')}#BatchArchiver`,
    arguments: { object_selector: 'cam', event_name: 'frame', retry_delay_ms: 1, retry_max_delay_ms: 5, ...args },
  };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function deadLetterCodes(dir: string): Promise<string[]> {
  const codes: string[] = [];
  for (const d of await readdir(dir, { recursive: true })) {
    if (!d.endsWith('record.json')) continue;
    codes.push((JSON.parse(await readFile(path.join(dir, d), 'utf8')) as { code: string }).code);
  }
  return codes.sort();
}

describe('storeBatch: archivers that store several events per call', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  async function start(id: string, script: BatchScript | undefined, args: Record<string, unknown>) {
    const t = await tempDir();
    BatchArchiver.calls.delete(id);
    BatchArchiver.stored.delete(id);
    if (script) BatchArchiver.scripts.set(id, script);
    const started = await startBoss(batchEntry(id, args), { baseDir: t.dir });
    cleanup = async () => {
      await started.boss.stop();
      await t.cleanup();
    };
    return started;
  }

  it('gets the events that arrive together in one call, never more than max_batch, never more than `concurrency` in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let gate = false;
    const { boss, publish } = await start(
      'batch-group',
      async (events) => {
        inFlight += events.length;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await until(() => gate, 30_000);
        inFlight -= events.length;
        return new Array(events.length).fill(undefined);
      },
      { max_batch: 16, concurrency: 40 },
    );
    const n = 300;
    await Promise.all(range(n).map((i) => publish('cam', 'frame', [i, {}])));
    await until(() => inFlight === 40, 30_000, 'in flight');
    gate = true;
    await until(() => boss.status()[0]?.stats?.stored === n, 30_000, 'all stored');
    const calls = BatchArchiver.calls.get('batch-group')!;
    expect(maxInFlight).toBe(40);
    expect(Math.max(...calls.map((c) => c.length))).toBe(16);
    // The first calls split the burst: 16 + 16 + 8 up to `concurrency`.
    expect(calls.slice(0, 3).map((c) => c.length)).toEqual([16, 16, 8]);
    // Every event once, first calls in arrival order.
    expect(calls.flat()).toEqual(range(n));
    expect(boss.status()[0]?.stats).toMatchObject({ stored: n, retried: 0, deadLettered: 0, pending: 0 });
  });

  it('settles each event by its own outcome: stored, retried, or dead-lettered', async () => {
    const { boss, publish, deadLetterDir } = await start(
      'batch-outcomes',
      (events) =>
        events.map((e) => {
          const i = e.payload as number;
          if (i % 7 === 0) return new UnrecoverableError(`event ${i} does not fit`);
          if (i % 5 === 0 && e.attempt === 1) return new Error(`event ${i} failed once`);
          return undefined;
        }),
      { max_batch: 8, concurrency: 8 },
    );
    const n = 100;
    await Promise.all(range(n).map((i) => publish('cam', 'frame', [i, {}])));
    const bad = range(n).filter((i) => i % 7 === 0);
    const retried = range(n).filter((i) => i % 5 === 0 && i % 7 !== 0);
    await until(() => (boss.status()[0]?.stats?.stored ?? 0) + (boss.status()[0]?.stats?.deadLettered ?? 0) === n, 30_000);
    expect(boss.status()[0]?.stats).toMatchObject({ stored: n - bad.length, deadLettered: bad.length, retried: retried.length, pending: 0 });
    expect([...BatchArchiver.stored.get('batch-outcomes')!].sort((a, b) => (a as number) - (b as number))).toEqual(range(n).filter((i) => i % 7 !== 0));
    await until(async () => (await deadLetterCodes(deadLetterDir).catch(() => [])).length === bad.length, 10_000);
    expect(await deadLetterCodes(deadLetterDir)).toEqual(bad.map(() => 'ARCHIVER_PAYLOAD_MISMATCH').sort());
  });

  it('retries every event of a call that rejects, and of a call that gives the wrong number of outcomes', async () => {
    let calls = 0;
    const { boss, publish } = await start(
      'batch-reject',
      (events) => {
        calls++;
        if (calls === 1) throw new Error('the whole batch failed');
        if (calls === 2) return [undefined];
        return new Array(events.length).fill(undefined);
      },
      { max_batch: 64, concurrency: 64 },
    );
    await Promise.all(range(10).map((i) => publish('cam', 'frame', [i, {}])));
    await until(() => boss.status()[0]?.stats?.stored === 10, 30_000);
    expect(BatchArchiver.calls.get('batch-reject')![0]).toEqual(range(10));
    expect(BatchArchiver.stored.get('batch-reject')!.sort((a, b) => (a as number) - (b as number))).toEqual(range(10));
    // Each event failed with the rejection, and those of the second call again with its short
    // outcome list (the retries' backoff may split them over more than one call).
    const second = BatchArchiver.calls.get('batch-reject')![1]!.length;
    expect(second).toBeGreaterThan(0);
    expect(boss.status()[0]?.stats).toMatchObject({ stored: 10, retried: 10 + second, deadLettered: 0 });
  });

  it('aborts a call past store_timeout_ms and retries its events', async () => {
    let aborted = 0;
    const { boss, publish } = await start(
      'batch-timeout',
      (events, signal) =>
        events[0]!.attempt === 1
          ? new Promise<readonly unknown[]>((_, reject) => {
              signal.addEventListener('abort', () => {
                aborted++;
                reject(signal.reason as Error);
              });
            })
          : new Array(events.length).fill(undefined),
      { max_batch: 32, concurrency: 32, store_timeout_ms: 100 },
    );
    await Promise.all(range(20).map((i) => publish('cam', 'frame', [i, {}])));
    await until(() => boss.status()[0]?.stats?.stored === 20, 30_000);
    expect(aborted).toBe(1);
    expect(boss.status()[0]?.stats).toMatchObject({ stored: 20, retried: 20, deadLettered: 0 });
  });

  it('a stop whose drain times out leaves the events of a hung call in the spool; the next start stores them, none twice', async () => {
    const t = await tempDir();
    const stateDir = `${t.dir}/state`;
    const id = 'batch-drain';
    BatchArchiver.calls.delete(id);
    BatchArchiver.stored.delete(id);
    let hung = 0;
    BatchArchiver.scripts.set(id, (events, signal) => {
      hung++;
      return new Promise<readonly unknown[]>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    });
    const first = await startBoss(batchEntry(id, { max_batch: 8, concurrency: 16, store_timeout_ms: 600_000 }), { baseDir: t.dir, drainTimeoutMs: 200, stateDir });
    cleanup = () => t.cleanup();
    await Promise.all(range(20).map((i) => first.publish('cam', 'frame', [i, {}])));
    await until(() => first.boss.status()[0]?.stats?.durable === 20 && hung > 0, 10_000);
    await first.boss.stop();
    expect(first.boss.status()[0]?.stats).toMatchObject({ stored: 0, deadLettered: 0 });
    expect(BatchArchiver.stored.get(id) ?? []).toEqual([]);

    BatchArchiver.scripts.set(id, (events) => new Array(events.length).fill(undefined));
    const second = await startBoss(batchEntry(id, { max_batch: 8, concurrency: 16 }), { baseDir: t.dir, stateDir });
    await until(() => second.boss.status()[0]?.stats?.stored === 20, 10_000);
    await second.boss.stop();
    expect([...BatchArchiver.stored.get(id)!].sort((a, b) => (a as number) - (b as number))).toEqual(range(20));
    expect(second.boss.status()[0]?.stats).toMatchObject({ stored: 20, pending: 0, spooled: 0, deadLettered: 0 });
  });

  it('without an override, storeBatch calls store for each event with the same outcomes', async () => {
    const { boss, publish } = await start('batch-default', undefined, { max_batch: 8, concurrency: 8, batch_mode: 'default' });
    await Promise.all(range(30).map((i) => publish('cam', 'frame', [i, {}])));
    await until(() => boss.status()[0]?.stats?.stored === 30, 30_000);
    // store() fails multiples of 5 on their first attempt: those alone are retried.
    expect([...BatchArchiver.stored.get('batch-default')!].sort((a, b) => (a as number) - (b as number))).toEqual(range(30));
    expect(boss.status()[0]?.stats).toMatchObject({ stored: 30, retried: 6, deadLettered: 0 });
    // store() ran once per event and attempt.
    expect(BatchArchiver.calls.get('batch-default')!.every((c) => c.length === 1)).toBe(true);
    expect(BatchArchiver.calls.get('batch-default')!.length).toBe(36);
  });
});
