import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { ArrowArchiver } from '../actors/arrow-archiver.js';
import type { BatchEvent } from '../src/archiver.js';
import { errorCode } from '../src/errors.js';
import { pyFloat, type PyValue } from '../src/heros/values.js';
import { silentLogger } from '../src/log.js';
import { validateOptions } from '../src/options.js';
import { tempDir } from './helpers/harness.js';

/** An ArrowArchiver called directly (no queue), as the queue calls it. */
function archiver(dir: string, args: Record<string, unknown>): ArrowArchiver {
  const { options } = validateOptions(ArrowArchiver.optionsSchema, { object_selector: '*', event_name: 'e', save_template: `${dir}/{{ source }}.arrow`, fsync: 'none', ...args }, 'tab');
  return new ArrowArchiver(options as never, { id: 'tab', classname: 'ArrowArchiver', logger: silentLogger(), root: '/', baseDir: dir, realm: 'heros', spoolDir: path.join(dir, 'spool'), drainTimeoutMs: 5_000 } as never);
}

function event(source: string, payload: PyValue, attempt = 1): BatchEvent {
  return { source, payload, metadata: {}, attempt, key: undefined, receivedAt: 1_700_000_000_000, metadataInOrder: new Map() };
}

async function rows(file: string): Promise<Record<string, unknown>[]> {
  return tableFromIPC(await readFile(file)).toArray().map((r) => {
    const o = r.toJSON() as Record<string, unknown>;
    delete o.received_at;
    return { ...o, id: Number(o.id) };
  });
}

const stop = (a: ArrowArchiver): Promise<void> => (a as unknown as { onStop(): Promise<void> }).onStop();

describe('ArrowArchiver.storeBatch', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('settles each event on its own: rows of two files stored, a payload that is not a dict refused, a repeated key a duplicate', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const a = archiver(t.dir, { batch_ms: 5, unique_key: '{{ id }}', archive_dir: t.dir });
    const outcomes = await a.storeBatch(
      [event('a', { id: 1, v: pyFloat(0.5) }), event('b', { id: 2, v: pyFloat(1.5) }), event('a', [1, 2, 3]), event('a', { id: 1, v: pyFloat(9) }), event('b', { id: 3, v: pyFloat(2.5) })],
      new AbortController().signal,
    );
    expect(outcomes).toHaveLength(5);
    expect([0, 1, 3, 4].map((i) => outcomes[i])).toEqual([undefined, undefined, undefined, undefined]);
    expect(errorCode(outcomes[2])).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    expect(a.arrowStats()).toMatchObject({ rows: 3, duplicates: 1 });
    await stop(a);
    expect(await rows(path.join(t.dir, 'a.arrow'))).toEqual([{ source: 'a', id: 1, v: 0.5, _key: '1' }]);
    expect(await rows(path.join(t.dir, 'b.arrow'))).toEqual([
      { source: 'b', id: 2, v: 1.5, _key: '2' },
      { source: 'b', id: 3, v: 2.5, _key: '3' },
    ]);
  });

  it('an abort takes the rows still waiting out of their batch and fails them; the next call writes', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const a = archiver(t.dir, { batch_ms: 60_000, batch_rows: 1000 });
    const controller = new AbortController();
    const first = a.storeBatch([0, 1, 2].map((id) => event(id === 1 ? 'b' : 'a', { id })), controller.signal);
    const reason = new Error('timed out');
    controller.abort(reason);
    expect(await first).toEqual([reason, reason, reason]);
    const second = a.storeBatch([3, 4].map((id) => event('a', { id }, 2)), new AbortController().signal);
    await stop(a);
    expect(await second).toEqual([undefined, undefined]);
    expect((await rows(path.join(t.dir, 'a.arrow'))).map((r) => r.id)).toEqual([3, 4]);
    expect(a.arrowStats().rows).toBe(2);
  });
});
