/**
 * A Zenoh peer in its own process that publishes numbered samples, for native-bus.test.ts:
 * the test's JavaScript thread is kept busy meanwhile, which a sender in the same process
 * would be held up by.
 *
 *   node native-sender.mjs <addon> <connect-endpoint> <key> <count> <bytes> [numbered]
 *
 * Prints "connected" once a peer is there, waits for a line on stdin, publishes sample i
 * (`bytes` bytes of value i % 256; with `numbered`, i as a 32-bit little-endian number in its
 * first four bytes) for i in 0..count-1 with Zenoh's "block" congestion control
 * (so that what the receiver does, not this sender's queue, decides what arrives), prints
 * "done" and exits.
 */
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const [addon, endpoint, key, count, bytes, numbered] = process.argv.slice(2);
const { NativeSession } = createRequire(import.meta.url)(addon);
const session = new NativeSession(1 << 20, null, 0);
await session.open(null, ['mode', 'connect/endpoints', 'listen/endpoints', 'scouting/multicast/enabled'], ['"peer"', JSON.stringify([endpoint]), '["tcp/127.0.0.1:0"]', 'false']);
while ((await session.connected()) === 0) await new Promise((r) => setTimeout(r, 20));
console.log('connected');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'probe') {
    await session.put(key, Buffer.alloc(1, 255), null);
    console.log('probed');
    continue;
  }
  for (let i = 0; i < Number(count); i++) {
    const sample = Buffer.alloc(Number(bytes), i % 256);
    if (numbered === 'numbered') sample.writeUInt32LE(i, 0);
    await session.put(key, sample, null, true);
  }
  console.log('done');
  break;
}
await session.close();
process.exit(0);
