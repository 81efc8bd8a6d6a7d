/**
 * Notes when each file of a folder is complete, for publish→file latency with sub-millisecond
 * resolution (a file's mtime comes from the kernel's coarse clock and may lag by a tick).
 *
 *   node bench/watch-files.ts <dir>
 *
 * Records, per file name, the time of its last inotify event (nanoseconds since the epoch):
 * heros-archiver's rename of the finished temporary file, numpy.save's / write_text's last
 * write. stdin: "report" prints one JSON line {"<name>": ns}, "quit" exits. Prints "ready".
 */
import { watch } from 'node:fs';
import { createInterface } from 'node:readline';

const dir = process.argv[2]!;
const seen = new Map<string, number>();
const nowNs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1e6);
const watcher = watch(dir, (_event, name) => {
  if (name && !name.startsWith('.')) seen.set(name, nowNs());
});
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === 'report') console.log(JSON.stringify(Object.fromEntries(seen)));
  else if (cmd === 'quit') break;
}
watcher.close();
process.exit(0);
