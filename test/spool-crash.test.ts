import { spawn } from 'node:child_process';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../src/storage/spool.js';
import { tempDir } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

const WRITER = path.join(repoRoot, 'test/fixtures/spool-writer.ts');

/** Runs the writer until it has reported `durable` records, then kills it with SIGKILL. */
async function writeThenKill(dir: string, durable: number): Promise<Map<number, number>> {
  const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const reported = new Map<number, number>();
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    // Never leave the writer running, whatever happens to the test.
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer reported ${reported.size} records in 30 s: ${stderr}`));
    }, 30_000);
    child.on('exit', () => clearTimeout(guard));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [index, id] = line.split(' ').map(Number);
        reported.set(index!, id!);
      }
      if (reported.size >= durable) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
  });
  expect(await exited).toBe('SIGKILL');
  return reported;
}

const indexOf = (payload: Uint8Array) => new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);

describe('spool after a crash', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('keeps every record reported durable before SIGKILL, in order, and moves a torn tail aside', async () => {
    const t = await tempDir('ha-spool-');
    cleanup = () => t.cleanup();
    const reported = await writeThenKill(t.dir, 3000);

    let spool = await Spool.open(t.dir);
    const records = await spool.read(1_000_000);
    const indexes = records.map((r) => indexOf(r.payload));
    // A prefix of what was appended, in order, ids matching what the writer was told.
    expect(indexes).toEqual(Array.from({ length: indexes.length }, (_, i) => i));
    expect(indexes.length).toBeGreaterThanOrEqual(Math.max(...reported.keys()) + 1);
    for (const [index, id] of reported) expect(records[index]!.id).toBe(id);
    for (const r of records) expect(r.payload.subarray(4).every((b) => b === (indexOf(r.payload) & 0xff))).toBe(true);
    const kept = spool.recovered.records;
    await spool.close();

    // A record cut short, as a crash in the middle of a write leaves it.
    const segments = (await readdir(t.dir)).filter((n) => n.endsWith('.seg')).sort();
    const last = path.join(t.dir, segments.at(-1)!);
    const goodSize = (await stat(last)).size;
    const torn = Buffer.alloc(8 + 100, 7);
    torn.writeUInt32LE(4000, 0);
    await appendFile(last, torn);

    spool = await Spool.open(t.dir);
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    expect(spool.recovered).toMatchObject({ records: kept, corruptBytes: torn.length });
    expect(spool.recovered.corruptFiles).toHaveLength(1);
    const aside = spool.recovered.corruptFiles[0]!;
    expect(path.basename(aside)).toMatch(new RegExp(`^${segments.at(-1)}\\.corrupt-`));
    expect(await readFile(aside)).toEqual(torn);
    expect((await stat(last)).size).toBe(goodSize);
    expect((await spool.read(1_000_000)).map((r) => indexOf(r.payload))).toEqual(indexes);
  });

  it('stops at a record whose checksum fails and keeps the good records before it', async () => {
    const t = await tempDir('ha-spool-');
    cleanup = () => t.cleanup();
    let spool = await Spool.open(t.dir, { sync: 'none' });
    const payload = (i: number) => new Uint8Array(1000).fill(i);
    for (let i = 0; i < 10; i++) await spool.append(payload(i));
    await spool.close();

    const [segment] = (await readdir(t.dir)).filter((n) => n.endsWith('.seg'));
    const file = path.join(t.dir, segment!);
    const bytes = await readFile(file);
    // Flip one payload byte of the eighth record (32-byte file header, 1008-byte records).
    const eighth = 32 + 7 * 1008;
    bytes[eighth + 8 + 500]! ^= 0xff;
    await writeFile(file, bytes);

    spool = await Spool.open(t.dir);
    cleanup = async () => {
      await spool.close();
      await t.cleanup();
    };
    expect(spool.recovered).toMatchObject({ records: 7, corruptBytes: 3 * 1008 });
    expect(await readFile(spool.recovered.corruptFiles[0]!)).toEqual(bytes.subarray(eighth));
    expect((await spool.read(100)).map((r) => r.payload[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
