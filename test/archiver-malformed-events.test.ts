import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../src/dead-letter.js';
import { encodeHeros } from '../src/heros/cbor.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { scriptedEntry } from './helpers/scripted.js';

describe('events that are not [payload, metadata]', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('dead-letters wrong shapes and undecodable bytes with their raw bytes and a code', async () => {
    const t = await tempDir();
    const { boss, bus, publish, deadLetterDir } = await startBoss(scriptedEntry('strict'), { baseDir: t.dir });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    await publish('cam', 'frame', 'just a string');
    await publish('cam', 'frame', [1]);
    await publish('cam', 'frame', [1, [2, 3]]);
    const garbage = Uint8Array.of(0xff, 0x00, 0x13, 0x37);
    await bus.put('@object/heros/cam/frame', garbage);
    await until(() => boss.status()[0]?.stats?.deadLettered === 4);
    const entries = await new DeadLetterStore(deadLetterDir).list('strict');
    const codes = entries.map((e) => e.record.code).sort();
    expect(codes).toEqual(['ARCHIVER_DECODE_FAILED', 'ARCHIVER_EVENT_MALFORMED', 'ARCHIVER_EVENT_MALFORMED', 'ARCHIVER_EVENT_MALFORMED']);
    const undecodable = entries.find((e) => e.record.code === 'ARCHIVER_DECODE_FAILED')!;
    expect(new Uint8Array(await readFile(path.join(undecodable.dir, 'event.cbor')))).toEqual(garbage);
    const strings = await Promise.all(entries.map((e) => readFile(path.join(e.dir, 'event.cbor'))));
    expect(strings.some((b) => Buffer.compare(b, Buffer.from(encodeHeros('just a string'))) === 0)).toBe(true);
    expect(boss.status()[0]?.stats).toMatchObject({ received: 4, stored: 0 });
  });
});
