/**
 * The receive limits of heros-archiver's two Zenoh paths: a subscriber that only counts (no
 * decoding, no storage), on a ZenohBus (zenoh-ts through the bridge's WebSocket) or, with
 * `native:<endpoint>`, on a NativeZenohBus (an in-process Zenoh peer connecting to
 * `<endpoint>`). From dist/: `npm run build` first.
 *
 *   node bench/raw-zenoh-ts.ts <ws-url | native:tcp/127.0.0.1:7447> <key-expr>
 *
 * Same stdin protocol as bench/python/raw_sub.py: "reset", "report" (one JSON line
 * {"<key>": {count, bytes, first, last}} with nanosecond times), "quit"; prints "ready".
 * "latency on" also decodes each sample (HEROS CBOR) and records receive time − the publisher's
 * `t` from the metadata; "report" then adds p50Ms/p99Ms per key. "latency off" stops it.
 */
import { createInterface } from 'node:readline';

const { ZenohBus } = await import('../dist/src/bus/zenoh.js');
const { NativeZenohBus } = await import('../dist/src/bus/native.js');
const { decodeHeros } = (await import('../dist/src/heros/cbor.js')) as { decodeHeros: (b: Uint8Array) => unknown };

const [url, keyExpr] = process.argv.slice(2) as [string, string];
interface Counter { count: number; bytes: number; first: number; last: number; lat?: number[] }
let latency = false;
function publishedNs(payload: Uint8Array): bigint | undefined {
  const value = decodeHeros(payload);
  if (!Array.isArray(value)) return undefined;
  const meta = value[1] as unknown;
  const t = meta instanceof Map ? meta.get('t') : (meta as Record<string, unknown> | undefined)?.t;
  return t === undefined ? undefined : BigInt(String(t));
}
let counters = new Map<string, Counter>();
const nowNs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1e6);

const bus = url.startsWith('native:')
  ? await NativeZenohBus.open({ connect: [url.slice('native:'.length)], listen: ['tcp/127.0.0.1:0'], multicastScouting: false })
  : await ZenohBus.connect({ url });
await bus.subscribe(keyExpr, (sample) => {
  const now = nowNs();
  let c = counters.get(sample.key);
  if (latency) {
    const t = publishedNs(sample.payload);
    if (c === undefined) counters.set(sample.key, (c = { count: 0, bytes: 0, first: now, last: now }));
    if (t !== undefined) (c.lat ??= []).push(Number(BigInt(now) - t) / 1e6);
  }
  if (c === undefined) counters.set(sample.key, { count: 1, bytes: sample.payload.byteLength, first: now, last: now });
  else {
    c.count++;
    c.bytes += sample.payload.byteLength;
    c.last = now;
  }
});
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === 'reset') {
    counters = new Map();
    console.log('ok');
  } else if (cmd === 'latency on' || cmd === 'latency off') {
    latency = cmd === 'latency on';
    console.log('ok');
  } else if (cmd === 'report') {
    const out: Record<string, unknown> = {};
    for (const [k, c] of counters) {
      const { lat, ...rest } = c;
      const sorted = (lat ?? []).sort((a, b) => a - b);
      const pct = (p: number): number | null => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : null);
      out[k] = { ...rest, ...(lat ? { p50Ms: pct(50), p99Ms: pct(99), latCount: sorted.length } : {}) };
    }
    console.log(JSON.stringify(out));
  } else if (cmd === 'quit') break;
}
await bus.close();
process.exit(0);
