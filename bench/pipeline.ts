/**
 * heros-archiver's own cost per event, without Zenoh: events are CBOR-encoded as a Python HERO
 * sends them and put on the in-process MemoryBus; the actor decodes, queues, spools, renders
 * and writes exactly as in the daemon. Separates archiver overhead from bridge and publisher.
 *
 *   PATH=.tools/node/bin:$PATH npm run build && node bench/pipeline.ts [--events 5000] [--dir D]
 *        [--workloads json1k,f32-64k,f32-4m] [--modes spool,memory] [--concurrency 1,8] [--cpu-prof]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { Boss, prepareActors } = await import('../dist/src/boss.js');
const { MemoryBus } = await import('../dist/src/bus/memory.js');
const { encodeHeros } = await import('../dist/src/heros/cbor.js');
const { NdArray } = await import('../dist/src/heros/values.js');
const { silentLogger } = await import('../dist/src/log.js');
const { parseManifests } = await import('../dist/src/manifest.js');

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    dir: { type: 'string' },
    workloads: { type: 'string', default: 'json1k,f32-64k,f32-4m' },
    modes: { type: 'string', default: 'spool,memory' },
    concurrency: { type: 'string', default: '1,8' },
  },
});

interface Workload {
  id: string;
  classname: string;
  bytes: number;
  events: number;
  payload: (i: number) => unknown;
}

function ndarray(shape: number[]): unknown {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i += 97) data[i] = i;
  return new NdArray('float32', shape, new Uint8Array(data.buffer));
}

const N = Number(args.events);
const text = 'x'.repeat(900);
const all: Workload[] = [
  { id: 'json1k', classname: 'JsonArchiver', bytes: 1024, events: N, payload: (i) => ({ seq: i, value: i * 0.5, text }) },
  { id: 'f32-64k', classname: 'ArrayArchiver', bytes: 65536, events: Math.max(200, Math.round(N / 2)), payload: () => ndarray([128, 128]) },
  { id: 'f32-4m', classname: 'ArrayArchiver', bytes: 4 << 20, events: Math.max(50, Math.round(N / 40)), payload: () => ndarray([1024, 1024]) },
  // ~100-byte telemetry records into Arrow IPC files (as bench/arrow.ts, but through the whole
  // actor: bus, decode, spool, queue, batches).
  {
    id: 'rows100',
    classname: 'ArrowArchiver',
    bytes: 100,
    events: N * 20,
    payload: (i) => ({ id: i, ts: 1_700_000_000.125 + i / 1000, value: Math.sin(i) * 100 + 0.5, ok: i % 3 !== 0, sensor: `lab-2/cryostat-${i % 16}/stage-temperature` }),
  },
  // 10× a 64 MiB memory budget in 1 MiB frames, as bench/run.ts's burst.
  { id: 'burst', classname: 'ArrayArchiver', bytes: 1 << 20, events: 640, payload: () => ndarray([512, 512]) },
];

const selected = all.filter((w) => args.workloads!.split(',').includes(w.id));
const modes = args.modes!.split(',') as ('spool' | 'memory')[];
const concurrencies = args.concurrency!.split(',').map(Number);
const base = await mkdtemp(path.join(args.dir ?? os.tmpdir(), 'heros-archiver-pipeline-'));

async function runOne(w: Workload, mode: 'spool' | 'memory', concurrency: number): Promise<void> {
  const dir = await mkdtemp(path.join(base, `${w.id}-${mode}-${concurrency}-`));
  const manifest = {
    _id: 'bench',
    classname: w.classname,
    arguments: {
      object_selector: 'cam',
      event_name: 'frame',
      save_template: w.classname === 'ArrowArchiver' ? `${dir}/out/{{ source }}.arrow` : `${dir}/out/{{ seq }}${w.classname === 'JsonArchiver' ? '.json' : '.npy'}`,
      durability: mode,
      ...(w.classname === 'ArrowArchiver' ? {} : { concurrency }),
      memory_budget_bytes: w.id === 'burst' ? 64 * 1024 * 1024 : 256 * 1024 * 1024,
    },
  };
  const entries = parseManifests([{ source: 'bench.json', baseDir: dir, text: JSON.stringify(manifest) }]);
  const bus = new MemoryBus();
  const boss = new Boss({ bus, logger: silentLogger(), baseDir: dir, root: '/', stateDir: path.join(dir, 'state'), deadLetterDir: path.join(dir, 'dl'), drainTimeoutMs: 600_000, realm: 'heros' });
  await boss.start(await prepareActors(entries));
  // Encode first: the publisher's cost is not ours. Frames are encoded once and copied per
  // put (as a socket delivers a fresh buffer per message), so memory is what the archiver holds.
  const same = w.classname === 'ArrayArchiver';
  // seq 2^28 encodes as a 4-byte CBOR uint at the very end of the message; withSeq patches it.
  const template = same ? encodeHeros([w.payload(0), { seq: SEQ_BASE }] as never) : undefined;
  const msgs: Uint8Array[] = same ? [] : Array.from({ length: w.events }, (_, i) => encodeHeros([w.payload(i), { seq: i }] as never));
  let peakRss = 0;
  let atPeak = '';
  const sampler = setInterval(() => {
    const r = process.memoryUsage.rss();
    if (r <= peakRss) return;
    peakRss = r;
    if (process.env.PIPELINE_MEM) {
      if (process.env.PIPELINE_MEM === 'gc') (globalThis as { gc?: () => void }).gc?.();
      const m = process.memoryUsage();
      const st = boss.status()[0]?.stats;
      atPeak = `heap ${(m.heapUsed / 2 ** 20).toFixed(0)} ext ${(m.external / 2 ** 20).toFixed(0)} ab ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB; received ${st?.received} pending ${st?.pending} spooled ${st?.spooled} durable ${st?.durable} stored ${st?.stored}`;
    }
  }, 10);
  const rss0 = process.memoryUsage.rss();
  const stats = () => boss.status()[0]!.stats!;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let durableAt = 0;
  for (let i = 0; i < w.events; i++) {
    await bus.put(`@object/heros/cam/frame`, template ? withSeq(template, i) : msgs[i]!);
    // Let the loop breathe every 64 events, as a socket would deliver them.
    if ((i & 63) === 63) await new Promise((r) => setImmediate(r));
  }
  const tPut = performance.now();
  while (stats().stored + stats().deadLettered < w.events) {
    if (durableAt === 0 && stats().durable >= w.events) durableAt = performance.now();
    await new Promise((r) => setTimeout(r, 2));
  }
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const s = stats();
  const secs = (t1 - t0) / 1000;
  clearInterval(sampler);
  const rss = Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20;
  console.log(
    [w.id.padEnd(8), mode.padEnd(6), String(concurrency).padStart(3), `${Math.round(w.events / secs)}`.padStart(7) + ' ev/s', `${((w.events * w.bytes) / secs / 1e6).toFixed(1)}`.padStart(7) + ' MB/s',
      `fed in ${(tPut - t0).toFixed(0)} ms`, `cpu ${(((cpu.user + cpu.system) / 1000 / (t1 - t0)) * 100).toFixed(0)}%`, `peak rss ${rss.toFixed(0)} MiB (+${(rss - rss0 / 2 ** 20).toFixed(0)})`, `spilled ${s.spooled}`, `dead ${s.deadLettered}`].join('  '),
  );
  if (atPeak) console.log(`  at peak: ${atPeak}`);
  await boss.stop();
  // Deleted at the end: freeing blocks (file system mounted with `discard`) would slow the next run.
}

const SEQ_BASE = 2 ** 28;
/** A copy of an encoded frame event with metadata `seq` = SEQ_BASE + i. */
function withSeq(template: Uint8Array, i: number): Uint8Array {
  const copy = new Uint8Array(template);
  new DataView(copy.buffer).setUint32(copy.length - 4, SEQ_BASE + i);
  return copy;
}

console.log(`pipeline: ${os.cpus().length} cpus, node ${process.version}, dir ${base}, load ${os.loadavg()[0]!.toFixed(2)}`);
for (const w of selected) for (const mode of modes) for (const c of concurrencies) await runOne(w, mode, c);
await rm(base, { recursive: true, force: true });
