import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { decodeHeros } from '../src/heros/cbor.js';
import { alwaysFail, ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('a store that always fails', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('is tried max_retries+1 times, then dead-lettered with the event, metadata and error', async () => {
    const t = await tempDir();
    ScriptedArchiver.scripts.set('broken', alwaysFail);
    const { boss, publish, deadLetterDir } = await startBoss(
      scriptedEntry('broken', { max_retries: 2, default_metadata: { run: 'r1', frame: 0 } }),
      { baseDir: t.dir },
    );
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('cam', 'frame', ['payload', { frame: 7 }]);
    await until(() => boss.status()[0]?.stats?.deadLettered === 1);
    const entries = await new DeadLetterStore(deadLetterDir).list('broken');
    expect(entries).toHaveLength(1);
    const { record, dir } = entries[0]!;
    expect(record).toMatchObject({ actor: 'broken', source: 'cam', key: '@object/heros/cam/frame', code: 'ARCHIVER_RETRIES_EXHAUSTED', attempts: 3 });
    expect(record.message).toContain('disk on fire');
    expect(record.cause).toMatchObject({ message: 'disk on fire', code: 'ECONNRESET' });
    // The event bytes are the original event, re-playable.
    expect(decodeHeros(await readFile(path.join(dir, 'event.cbor')))).toEqual(['payload', { frame: 7 }]);
    // The merged metadata is readable JSON (event wins over default_metadata).
    expect(JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'))).toEqual({ run: 'r1', frame: 7 });
    expect(boss.status()[0]?.stats).toMatchObject({ received: 1, stored: 0, retried: 2, deadLettered: 1, pending: 0 });
  });
});
