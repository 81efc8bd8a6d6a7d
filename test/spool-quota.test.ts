import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiverError } from '../src/errors.js';
import { Spool } from '../src/storage/spool.js';
import { tempDir, until } from './helpers/harness.js';

describe('spool quota', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('refuses appends beyond quotaBytes with ARCHIVER_SPOOL_FULL and takes them again once acks free space', async () => {
    const t = await tempDir('ha-spool-');
    const spool = await Spool.open(t.dir, { segmentBytes: 1024, quotaBytes: 4096, syncIntervalMs: 1 });
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    const payload = new Uint8Array(100);
    let accepted = 0;
    let refusal: unknown;
    for (;;) {
      try {
        await spool.append(payload);
        accepted++;
      } catch (err) {
        refusal = err;
        break;
      }
    }
    expect(refusal).toBeInstanceOf(ArchiverError);
    expect(refusal).toMatchObject({ code: 'ARCHIVER_SPOOL_FULL', retryable: true });
    // 4096 bytes hold 36 records of 108 bytes plus the 32-byte headers of their 4 segments.
    expect(accepted).toBe(36);
    expect(spool.stats().diskBytes).toBeLessThanOrEqual(4096);

    // The refusal comes at once, not after a write: nothing was queued.
    let settled = false;
    const refused = spool.append(payload).then(
      () => (settled = true),
      () => (settled = true),
    );
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true);
    await refused;

    for (const r of await spool.read(100)) spool.ack(r.id);
    const again = await Promise.all(Array.from({ length: 30 }, () => spool.append(payload)));
    expect(again).toHaveLength(30);
    expect(spool.stats()).toMatchObject({ records: 30 });
    await until(async () => (await readdir(t.dir)).filter((n) => n.endsWith('.seg')).length === 4, 5_000, 'acked segments deleted');
  });
});
