/**
 * Spool throughput on this machine's disk: appends (64 KiB and 1 KiB records, group commit and
 * no sync), read-back, a producer/consumer pipeline, latency of a lone producer, recovery time,
 * and the two checksum candidates (zlib's CRC-32 against a table-driven CRC-32C).
 *
 *   PATH=.tools/node/bin:$PATH node bench/spool.ts [--dir /path/on/the/disk/to/test] [--mib 1024]
 *
 * Runs the TypeScript directly (Node strips the types); a resolve hook maps the `.js` import
 * specifiers of the sources to their `.ts` files. Prints one line per measurement.
 */
import '../scripts/ts-source-hook.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';

const { Spool } = await import('../src/storage/spool.ts');
type SpoolT = InstanceType<typeof Spool>;
type SpoolOptions = NonNullable<Parameters<typeof Spool.open>[1]>;

const { values } = parseArgs({ options: { dir: { type: 'string' }, mib: { type: 'string', default: '1024' } } });
const base = values.dir ?? tmpdir();
const totalMiB = Number(values.mib);

function line(name: string, fields: Record<string, string | number>): void {
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('  ');
  console.log(`${name.padEnd(44)} ${rest}`);
}

async function withSpool<T>(options: SpoolOptions, fn: (spool: SpoolT, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(base, 'spool-bench-'));
  const spool = await Spool.open(dir, options);
  try {
    return await fn(spool, dir);
  } finally {
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Appends `count` records of `size` bytes with at most `window` unresolved at a time (a burst). */
async function appendAll(spool: SpoolT, count: number, size: number, window: number): Promise<number> {
  const payload = new Uint8Array(size).map((_, i) => i * 31);
  const inFlight = new Set<Promise<unknown>>();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const p: Promise<unknown> = spool.append(payload).then(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return (performance.now() - t0) / 1000;
}

async function benchAppend(size: number, sync: 'interval' | 'none', window: number): Promise<void> {
  const count = Math.max(1, Math.floor((size >= 65536 ? totalMiB : totalMiB / 4) * 2 ** 20 / size));
  await withSpool({ sync }, async (spool) => {
    const s = await appendAll(spool, count, size, window);
    line(`append ${size / 1024} KiB, sync ${sync}, window ${window}`, {
      records: count,
      'MB/s': ((count * size) / 1e6 / s).toFixed(0),
      'appends/s': Math.round(count / s),
    });
  });
}

async function benchRead(size: number): Promise<void> {
  const count = Math.floor((totalMiB / 2) * 2 ** 20 / size);
  await withSpool({ sync: 'none' }, async (spool) => {
    await appendAll(spool, count, size, 1024);
    const t0 = performance.now();
    let n = 0;
    for (;;) {
      const batch = await spool.read(256);
      if (batch.length === 0) break;
      for (const r of batch) spool.ack(r.id);
      n += batch.length;
    }
    const s = (performance.now() - t0) / 1000;
    line(`read+ack ${size / 1024} KiB (page cache warm)`, { records: n, 'MB/s': ((n * size) / 1e6 / s).toFixed(0), 'records/s': Math.round(n / s) });
  });
}

/** A producer appending as fast as allowed while a consumer reads and acks, as the archiver will. */
async function benchPipeline(size: number): Promise<void> {
  const count = Math.floor((totalMiB / 4) * 2 ** 20 / size);
  await withSpool({ sync: 'interval' }, async (spool) => {
    let consumed = 0;
    let producing = true;
    const t0 = performance.now();
    const consumer = (async () => {
      while (producing || consumed < count) {
        const batch = await spool.read(512);
        if (batch.length === 0) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        for (const r of batch) spool.ack(r.id);
        consumed += batch.length;
      }
    })();
    await appendAll(spool, count, size, 4096);
    producing = false;
    await consumer;
    const s = (performance.now() - t0) / 1000;
    line(`pipeline append→read→ack ${size / 1024} KiB, interval`, { records: count, 'MB/s': ((count * size) / 1e6 / s).toFixed(0), 'records/s': Math.round(count / s) });
  });
}

async function benchLatency(): Promise<void> {
  await withSpool({ sync: 'interval' }, async (spool) => {
    const payload = new Uint8Array(1024);
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await spool.append(payload);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    line('lone producer, 1 KiB, awaited one by one', { p50ms: times[100]!.toFixed(2), p99ms: times[198]!.toFixed(2), 'appends/s': Math.round(1000 / (times.reduce((a, b) => a + b) / times.length)) });
  });
}

async function benchRecovery(): Promise<void> {
  const dir = await mkdtemp(path.join(base, 'spool-bench-'));
  try {
    const size = 65536;
    const count = Math.floor((totalMiB / 2) * 2 ** 20 / size);
    const spool = await Spool.open(dir, { sync: 'none' });
    await appendAll(spool, count, size, 1024);
    await spool.close();
    const t0 = performance.now();
    const again = await Spool.open(dir);
    const s = (performance.now() - t0) / 1000;
    line('open (recovery scan, page cache warm)', { records: again.recovered.records, 'MB/s': ((again.recovered.bytes / 1e6) / s).toFixed(0), seconds: s.toFixed(2) });
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** CRC-32C (Castagnoli), slicing-by-8 tables: the alternative to zlib's CRC-32. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 255]!;
  return t;
})();

function crc32c(buf: Uint8Array, seed = 0): number {
  const t = CRC32C_TABLE;
  let crc = ~seed;
  let i = 0;
  const n = buf.length;
  for (; i + 8 <= n; i += 8) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ crc;
    crc = t[1792 + (a & 255)]! ^ t[1536 + ((a >>> 8) & 255)]! ^ t[1280 + ((a >>> 16) & 255)]! ^ t[1024 + (a >>> 24)]! ^ t[768 + buf[i + 4]!]! ^ t[512 + buf[i + 5]!]! ^ t[256 + buf[i + 6]!]! ^ t[buf[i + 7]!]!;
  }
  for (; i < n; i++) crc = t[(crc ^ buf[i]!) & 255]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

function benchChecksums(): void {
  const check = Buffer.from('123456789');
  if (crc32c(check) !== 0xe3069283 || crc32(check) !== 0xcbf43926) throw new Error('checksum check values wrong');
  for (const size of [1024, 65536]) {
    const buf = new Uint8Array(size).map((_, i) => i * 7);
    for (const [name, fn] of [['zlib.crc32 (CRC-32)', (b: Uint8Array) => crc32(b)], ['TypeScript CRC-32C', (b: Uint8Array) => crc32c(b)]] as const) {
      let x = 0;
      for (let i = 0; i < 2000; i++) x ^= fn(buf);
      const n = Math.ceil((512 * 2 ** 20) / size);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) x ^= fn(buf);
      const s = (performance.now() - t0) / 1000;
      line(`checksum ${name}, ${size / 1024} KiB`, { 'MB/s': ((n * size) / 1e6 / s).toFixed(0), _: x & 0 });
    }
  }
}

console.log(`spool bench: ${base}, ${totalMiB} MiB per 64 KiB run, Node ${process.version}`);
benchChecksums();
await benchAppend(65536, 'interval', 256);
await benchAppend(65536, 'interval', 1024);
await benchAppend(65536, 'none', 256);
await benchAppend(1024, 'interval', 4096);
await benchAppend(1024, 'none', 4096);
await benchRead(65536);
await benchRead(1024);
await benchPipeline(1024);
await benchPipeline(65536);
await benchLatency();
await benchRecovery();
