/**
 * heros-archiver against herostools, side by side, with the same publisher on the same machine.
 *
 *   PATH=.tools/node/bin:$PATH npm run build      # the daemon runs from dist/
 *   PATH=.tools/node/bin:$PATH node bench/run.ts [--quick] [--workloads json1k,f32-64k,…]
 *        [--contenders herostools,spool,memory,native-spool,native,raw-py,raw-ts,raw-native] [--dir …]
 *        [--out bench/RESULTS.md] [--cpu-prof] [--rate N] [--count N] [--concurrency N]
 *        [--daemon-args="--spare-files 0 …"] [--order workload|contender]
 *
 * One run measures, one contender at a time, each with a fresh bridge and publisher and warmed
 * up with half the throughput run's events flat out, not counted. By default each workload runs
 * every contender in turn, so that the machine's state drifts little between the contenders of
 * one row (`--order contender` runs each contender's workloads in one process):
 *   limits      dd (sequential write with fdatasync, median of three), a plain Python Zenoh
 *               subscriber that counts (raw-py), a ZenohBus subscriber that counts (raw-ts),
 *               a NativeZenohBus subscriber that counts (raw-native)
 *   contenders  real BOSS + herostools (herostools), the heros-archiver daemon with
 *               durability "spool" (spool) and "memory" (memory) reading the bridge's
 *               WebSocket, and the same with its own in-process Zenoh session (`--bus native`:
 *               native-spool, native)
 * The publisher is a real HEROS LocalHERO (bench/python/publisher.py) connected to a
 * zenoh-bridge-remote-api started here; BOSS, the raw Python subscriber and the native
 * daemons connect to the same bridge as Zenoh peers, the other daemons and raw-ts over its
 * WebSocket.
 *
 * Per workload: a throughput run (the publisher as fast as it can, or at --rate; events/s and
 * MB/s from the first to the last file's mtime, events lost = published − archived −
 * dead-lettered) — for json1k then a run published at 3× herostools' sustained rate, whose loss
 * the JSON target is judged by —, then a latency run at half the contender's sustained rate (publish time from
 * the metadata, rendered into the file name, against the file's last inotify event seen by
 * bench/watch-files.ts; raw-ts/raw-native: against the sample's arrival, at the memory/native run's rate). Peak
 * RSS and CPU come from /proc over the contender's process tree (BOSS forks one process per
 * actor; heros-archiver is reported with and without the bridge); for the daemon also its
 * event-loop lag, GC, heap, CPU by thread, and its own share of the latency: accepted→stored
 * p50/p99 from its heros_archiver_event_latency_seconds histogram (interpolated in the buckets).
 * Prints a table and writes a Markdown report
 * (bench/RESULTS.md for a full run). `--cpu-prof` profiles the daemon and prints its hottest
 * functions; `--rate`/`--count` set the throughput run; `--concurrency` sets heros-archiver's
 * `concurrency` option (default: each archiver's own default).
 *
 * Before each contender, 400 files of 64 KiB are written the way heros-archiver writes one
 * (create, write, close, rename), 1 ms apart, to give the file system's own p50/p99 per file
 * next to the latency target.
 *
 * Nothing here asserts a time: the numbers are ratios on a shared machine, to be read, not gated.
 */
import '../scripts/ts-source-hook.ts';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { assertBuilt, findFreePort, lineProcess, log, publish, pythonBin, repoRoot, startBenchDaemon, startRealBoss, startTestBridge, stopAll, waitFor, waitReady } = await import('./harness.ts');
type GroupProcess = import('./harness.ts').GroupProcess;
type LineProcess = import('./harness.ts').LineProcess;
type TestBridge = import('./harness.ts').TestBridge;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    workloads: { type: 'string' },
    contenders: { type: 'string' },
    dir: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    /** Events/s of the throughput run instead of flat out (e.g. for a profile at a load the contender sustains). */
    rate: { type: 'string' },
    /** Events of the throughput run of every selected workload. */
    count: { type: 'string' },
    /** heros-archiver's `concurrency` option for every actor (default: each archiver's own default). */
    concurrency: { type: 'string' },
    /** Extra command-line flags for the daemon, split on spaces (e.g. "--spare-files 0"). */
    'daemon-args': { type: 'string' },
    /**
     * `workload` (default): each workload runs every contender in turn, each with a fresh
     * bridge, publisher and daemon, so that contenders compared in one row ran minutes apart at
     * most; `contender`: each contender runs every workload in one process.
     */
    order: { type: 'string', default: 'workload' },
  },
});
const QUICK = args.quick;
if (args.order !== 'workload' && args.order !== 'contender') throw new Error(`--order must be workload or contender (got ${args.order})`);
const HERO = 'bench-pub';
const KEY_PREFIX = `@object/heros/${HERO}`;
const MiB = 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Workloads

interface Workload {
  id: string;
  /** The publisher's @event. */
  event: string;
  classname: 'ArrayArchiver' | 'JsonArchiver';
  split: boolean;
  /** Bytes of the archived file(s) of one event, roughly (payload). */
  payloadBytes: number;
  filesPerEvent: number;
  /** Events of the throughput run. */
  count: number;
  /** Whether a latency run at half load follows. */
  latency: boolean;
  note: string;
}

/** heros-archiver's memory budget for the burst workload (the default in a full run). */
const BURST_BUDGET = QUICK ? 16 * MiB : 64 * MiB;
const BURST_FRAME = 512 * 512 * 4;

const WORKLOADS: Workload[] = [
  { id: 'json1k', event: 'json1k', classname: 'JsonArchiver', split: false, payloadBytes: 1024, filesPerEvent: 1, count: QUICK ? 3000 : 8000, latency: true, note: '1 KiB JSON dict (JsonArchiver)' },
  { id: 'f32-64k', event: 'f32_64k', classname: 'ArrayArchiver', split: false, payloadBytes: 64 * 1024, filesPerEvent: 1, count: QUICK ? 1000 : 3000, latency: true, note: '128×128 float32 (ArrayArchiver)' },
  { id: 'f32-4m', event: 'f32_4m', classname: 'ArrayArchiver', split: false, payloadBytes: 4 * MiB, filesPerEvent: 1, count: QUICK ? 60 : 150, latency: true, note: '1024×1024 float32' },
  { id: 'stack16', event: 'stack16', classname: 'ArrayArchiver', split: true, payloadBytes: 16 * 64 * 1024, filesPerEvent: 16, count: QUICK ? 100 : 200, latency: true, note: '16×128×128 float32, split_data_array' },
  { id: 'f32-12m', event: 'f32_12m', classname: 'ArrayArchiver', split: false, payloadBytes: 12 * MiB, filesPerEvent: 1, count: QUICK ? 20 : 40, latency: true, note: '1536×2048 float32' },
  { id: 'burst', event: 'burst', classname: 'ArrayArchiver', split: false, payloadBytes: BURST_FRAME, filesPerEvent: 1, count: Math.ceil((10 * BURST_BUDGET) / BURST_FRAME), latency: false, note: `10× the memory budget (${BURST_BUDGET / MiB} MiB) in 1 MiB frames` },
];
if (args.count) for (const w of WORKLOADS) w.count = Number(args.count);
const TP_RATE = args.rate ? Number(args.rate) : 0;
const selected = args.workloads ? args.workloads.split(',').map((id) => {
  const w = WORKLOADS.find((x) => x.id === id);
  if (!w) throw new Error(`unknown workload ${id}; known: ${WORKLOADS.map((x) => x.id).join(', ')}`);
  return w;
}) : WORKLOADS;

type ContenderId = 'raw-py' | 'raw-ts' | 'raw-native' | 'herostools' | 'spool' | 'memory' | 'native' | 'native-spool';
/** heros-archiver contenders: durability, and whether the daemon is a Zenoh peer itself (`--bus native`) instead of reading the bridge. */
const ARCHIVERS: Partial<Record<ContenderId, { durability: 'spool' | 'memory'; native: boolean }>> = {
  spool: { durability: 'spool', native: false },
  memory: { durability: 'memory', native: false },
  native: { durability: 'memory', native: true },
  'native-spool': { durability: 'spool', native: true },
};
const isArchiver = (c: ContenderId): boolean => ARCHIVERS[c] !== undefined;
// heros-archiver before the raw limits: raw-ts's latency run uses the rate of memory's.
const CONTENDERS: ContenderId[] = ['herostools', 'spool', 'memory', 'native-spool', 'native', 'raw-py', 'raw-ts', 'raw-native'];
const contenders = (args.contenders ? args.contenders.split(',') : CONTENDERS) as ContenderId[];
for (const c of contenders) if (!CONTENDERS.includes(c)) throw new Error(`unknown contender ${c}; known: ${CONTENDERS.join(', ')}`);

/** Seconds without progress after which a run counts as finished (what did not arrive is lost). */
const IDLE_MS = 3000;
/** Seconds of publishing in a latency run. */
const LATENCY_SECONDS = QUICK ? 2 : 4;

// ---------------------------------------------------------------------------------------------
// /proc: process trees, RSS, CPU

const PAGE = 4096;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;

function children(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = map.get(ppid) ?? [];
      list.push(Number(name));
      map.set(ppid, list);
    } catch {
      // gone
    }
  }
  return map;
}

function tree(roots: readonly number[], kids: Map<number, number[]>): number[] {
  const out: number[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(kids.get(pid) ?? []));
  }
  return out;
}

/** RSS bytes and CPU ticks (utime + stime) of `pids`. */
function usage(pids: readonly number[]): { rss: number; ticks: number } {
  let rss = 0;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      rss += Number(f[21]) * PAGE;
    } catch {
      // exited
    }
  }
  return { rss, ticks };
}

/** CPU ticks of each thread of `pid`, summed by thread name (main thread, libuv-worker, V8 workers, …). */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(comm, (out.get(comm) ?? 0) + Number(f[11]) + Number(f[12]));
    } catch {
      // thread gone
    }
  }
  return out;
}

/** Where a process's CPU went between two `threadTicks`, as % of one core over `seconds`. */
function threadSplit(before: Map<string, number>, after: Map<string, number>, seconds: number): string {
  const parts = [...after.entries()]
    .map(([name, t]) => [name, (t - (before.get(name) ?? 0)) / CLK_TCK / seconds * 100] as const)
    .filter(([, pct]) => pct >= 1)
    .sort((a, b) => b[1] - a[1]);
  return parts.map(([name, pct]) => `${name} ${pct.toFixed(0)} %`).join(', ');
}

/** Samples two groups — the contender alone and with its bridge — every 100 ms. */
class Sampler {
  #timer: NodeJS.Timeout | undefined;
  peak = { alone: 0, withBridge: 0 };
  #ticks0 = { alone: 0, withBridge: 0 };
  last = { alone: 0, withBridge: 0 };
  readonly roots: readonly number[];
  readonly bridgePid: number | undefined;
  constructor(roots: readonly number[], bridgePid: number | undefined) {
    this.roots = roots;
    this.bridgePid = bridgePid;
  }
  sample(): void {
    const kids = children();
    const alone = tree(this.roots, kids);
    const withBridge = this.bridgePid === undefined ? alone : [...alone, ...tree([this.bridgePid], kids)];
    const a = usage(alone);
    const b = this.bridgePid === undefined ? a : usage(withBridge);
    this.peak.alone = Math.max(this.peak.alone, a.rss);
    this.peak.withBridge = Math.max(this.peak.withBridge, b.rss);
    this.last = { alone: a.ticks, withBridge: b.ticks };
  }
  start(): void {
    this.#timer = setInterval(() => this.sample(), 100);
  }
  /** Starts a measurement window: peak reset, CPU ticks noted. */
  mark(): void {
    this.sample();
    this.peak = { alone: 0, withBridge: 0 };
    this.sample();
    this.#ticks0 = { ...this.last };
    this.#markedAt = performance.now();
    this.#progress = { at: this.#markedAt, ...this.last };
  }
  #markedAt = 0;
  #progress = { at: 0, alone: 0, withBridge: 0 };
  /** Notes the CPU used up to now: the contender made progress. */
  progress(): void {
    this.sample();
    this.#progress = { at: performance.now(), ...this.last };
  }
  /** CPU % (of one core) from `mark()` to the last `progress()`. */
  cpuPercent(): { alone: number; withBridge: number } {
    const s = (this.#progress.at - this.#markedAt) / 1000;
    if (!(s > 0)) return { alone: NaN, withBridge: NaN };
    return {
      alone: ((this.#progress.alone - this.#ticks0.alone) / CLK_TCK / s) * 100,
      withBridge: ((this.#progress.withBridge - this.#ticks0.withBridge) / CLK_TCK / s) * 100,
    };
  }
  /** CPU seconds since `mark()`. */
  cpuSeconds(): { alone: number; withBridge: number } {
    this.sample();
    return { alone: (this.last.alone - this.#ticks0.alone) / CLK_TCK, withBridge: (this.last.withBridge - this.#ticks0.withBridge) / CLK_TCK };
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Manifests

function manifestEntries(archiveRoot: string, flavour: 'herostools' | 'spool' | 'memory', workloads: readonly Workload[]): string[] {
  return workloads.map((w) => {
    const tail = w.split ? `{{ seq }}-{{ t }}-{{ _split_index }}.npy` : w.classname === 'JsonArchiver' ? `{{ seq }}-{{ t }}.json` : `{{ seq }}-{{ t }}.npy`;
    const a: Record<string, unknown> = {
      object_selector: HERO,
      event_name: w.event,
      default_metadata: { root: archiveRoot },
      save_template: `{{ root }}/{{ phase }}/${w.id}/${tail}`,
    };
    if (w.split) a.split_data_array = true;
    if (flavour !== 'herostools') {
      a.durability = flavour;
      if (w.id === 'burst') a.memory_budget_bytes = BURST_BUDGET;
      if (args.concurrency) a.concurrency = Number(args.concurrency);
    }
    return JSON.stringify({ _id: `bench-${w.id}`, classname: `herostools.actor.${w.classname}`, arguments: a });
  });
}

// ---------------------------------------------------------------------------------------------
// Files on disk

interface FileInfo {
  name: string;
  seq: number;
  tNs: bigint;
  mtimeNs: bigint;
  size: number;
}

function countFiles(dir: string): number {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.')).length;
  } catch {
    return 0;
  }
}

function scanFiles(dir: string): FileInfo[] {
  if (!existsSync(dir)) return [];
  const out: FileInfo[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    try {
      const st = statSync(path.join(dir, name), { bigint: true });
      const [seq, t] = name.split('.')[0]!.split('-');
      out.push({ name, seq: Number(seq), tNs: BigInt(t!), mtimeNs: st.mtimeNs, size: Number(st.size) });
    } catch {
      // renamed away meanwhile
    }
  }
  return out;
}

/** Events/s and MB/s of archived files, from the first file's mtime to the last one's. */
function fileRates(files: readonly FileInfo[], w: Workload): { eventsPerS: number; mbPerS: number } {
  let minM = BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
  let maxM = 0n;
  let bytes = 0;
  for (const f of files) {
    if (f.mtimeNs < minM) minM = f.mtimeNs;
    if (f.mtimeNs > maxM) maxM = f.mtimeNs;
    bytes += f.size;
  }
  const span = Number(maxM - minM) / 1e9;
  const completeEvents = files.length / w.filesPerEvent;
  return {
    eventsPerS: span > 0 ? (completeEvents - 1 / w.filesPerEvent) / span : NaN,
    mbPerS: span > 0 ? (bytes * (1 - 1 / Math.max(1, files.length))) / 1e6 / span : NaN,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

// ---------------------------------------------------------------------------------------------
// Results

interface Result {
  contender: ContenderId;
  workload: string;
  published: number;
  archived: number;
  deadLettered: number;
  lost: number;
  /** Events whose every file is on disk. */
  archivedComplete: number;
  eventsPerS: number;
  mbPerS: number;
  pubRate: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 from file mtimes (coarse kernel clock), for comparison. */
  p99MtimeMs: number;
  received: number;
  latRate: number;
  latLost: number;
  /** json1k only: the rate of the run at 3× herostools' sustained rate, and what it lost. */
  targetRate: number;
  targetLost: number;
  rssMiB: number;
  rssWithBridgeMiB: number;
  cpuPct: number;
  cpuWithBridgePct: number;
}

const results: Result[] = [];
const notes: string[] = [];
const loads: string[] = [];
/** One 64 KiB file written by the file system alone, measured just before each contender. */
const fsAlone = new Map<string, { p50Ms: number; p99Ms: number }>();

// ---------------------------------------------------------------------------------------------
// Contender runs

interface Archive {
  /** Files so far of `phase`/`workload`. */
  files(phase: string, w: Workload): number;
  dir(phase: string, w: Workload): string;
  scan(phase: string, w: Workload): FileInfo[];
  /** Dead-lettered (heros-archiver) for the workload's actor, cumulative. */
  deadLettered(w: Workload): Promise<number>;
  /** Events the daemon received for the workload's actor, cumulative (NaN for herostools). */
  received(w: Workload): Promise<number>;
  /** Whether the contender still has work queued for the workload. */
  busy(w: Workload): Promise<boolean>;
  clear(w: Workload): void;
}

function fileArchive(root: string, daemonHttp?: string): Archive {
  const stats = async (w: Workload): Promise<{ deadLettered: number; pending: number; received: number } | undefined> => {
    if (!daemonHttp) return undefined;
    const res = await fetch(`http://${daemonHttp}/ready`);
    const body = (await res.json()) as { actors: { id: string; stats?: { deadLettered: number; pending: number; received: number } }[] };
    return body.actors.find((a) => a.id === `bench-${w.id}`)?.stats;
  };
  return {
    files: (phase, w) => countFiles(path.join(root, phase, w.id)),
    dir: (phase, w) => path.join(root, phase, w.id),
    scan: (phase, w) => scanFiles(path.join(root, phase, w.id)),
    deadLettered: async (w) => (await stats(w))?.deadLettered ?? 0,
    received: async (w) => (await stats(w))?.received ?? NaN,
    busy: async (w) => ((await stats(w))?.pending ?? 0) > 0,
    clear: (w) => {
      for (const phase of ['tp', 'tgt', 'lat']) discard(path.join(root, phase, w.id));
    },
  };
}

/** Daemon internals from /metrics: event-loop lag (prom-client resets it at each scrape), GC time, store time. */
interface DaemonMetrics {
  lagP99Ms: number;
  lagMaxMs: number;
  gcS: number;
  gcMajorS: number;
  heapMiB: number;
  externalMiB: number;
  storeS: number;
  stores: number;
  pausedS: number;
  /** Cumulative counts of heros_archiver_event_latency_seconds per bucket bound (seconds), summed over actors. */
  latency: Map<number, number>;
  /** The same for heros_archiver_store_duration_seconds. */
  store: Map<number, number>;
}

/** Cumulative bucket counts of a Prometheus histogram, summed over its label sets. */
function histogramBuckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm'))) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * The q-quantile (0..1) of the observations between two scrapes of a histogram, interpolated
 * linearly inside its bucket (as Prometheus' histogram_quantile), in ms; undefined when none.
 */
function histogramQuantileMs(before: Map<number, number>, after: Map<number, number>, q: number): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return lower * 1e3;
      const inBucket = counts[i]! - below;
      return (lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1)) * 1e3;
    }
    lower = bounds[i]!;
    below = counts[i]!;
  }
  return undefined;
}

async function scrape(http: string | undefined): Promise<DaemonMetrics | undefined> {
  if (!http) return undefined;
  try {
    const text = await (await fetch(`http://${http}/metrics`)).text();
    const sum = (re: RegExp): number => {
      let total = 0;
      for (const m of text.matchAll(re)) total += Number(m[1]);
      return total;
    };
    return {
      lagP99Ms: sum(/^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/gm) * 1e3,
      lagMaxMs: sum(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/gm) * 1e3,
      gcS: sum(/^nodejs_gc_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/gm),
      heapMiB: sum(/^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/gm) / MiB,
      externalMiB: sum(/^nodejs_external_memory_bytes(?:\{[^}]*\})? (\S+)$/gm) / MiB,
      gcMajorS: sum(/^nodejs_gc_duration_seconds_sum\{kind="major"\} (\S+)$/gm),
      storeS: sum(/^heros_archiver_store_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/gm),
      stores: sum(/^heros_archiver_store_duration_seconds_count(?:\{[^}]*\})? (\S+)$/gm),
      pausedS: sum(/^heros_archiver_receive_paused_seconds_total (\S+)$/gm),
      latency: histogramBuckets(text, 'heros_archiver_event_latency_seconds'),
      store: histogramBuckets(text, 'heros_archiver_store_duration_seconds'),
    };
  } catch {
    return undefined;
  }
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? '–' : `${ms.toFixed(2)} ms`;
}

function internals(before: DaemonMetrics | undefined, after: DaemonMetrics | undefined, wallS: number): string {
  if (!before || !after) return '';
  const stores = after.stores - before.stores;
  return `event-loop lag p99 ${after.lagP99Ms.toFixed(1)} ms, max ${after.lagMaxMs.toFixed(1)} ms; GC ${(after.gcS - before.gcS).toFixed(2)} s (major ${(after.gcMajorS - before.gcMajorS).toFixed(2)} s) in ${wallS.toFixed(1)} s; at the end: JS heap used ${after.heapMiB.toFixed(0)} MiB, external (ArrayBuffers) ${after.externalMiB.toFixed(0)} MiB${stores > 0 ? `; mean store ${(((after.storeS - before.storeS) / stores) * 1e3).toFixed(2)} ms over ${stores} stores (p99 ${fmtMs(histogramQuantileMs(before.store, after.store, 0.99))}); accepted→stored p50 ${fmtMs(histogramQuantileMs(before.latency, after.latency, 0.5))}, p99 ${fmtMs(histogramQuantileMs(before.latency, after.latency, 0.99))}` : ''}${after.pausedS > before.pausedS ? `; receiving paused for backpressure ${(after.pausedS - before.pausedS).toFixed(2)} s` : ''}`;
}

/** Waits until `progress()` reaches `target` or stops changing for IDLE_MS (and `busy` is false). */
async function settle(progress: () => number | Promise<number>, target: number, busy: () => Promise<boolean>, sampler?: Sampler): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const n = await progress();
    if (n >= target && !(await busy())) {
      if (n !== last) sampler?.progress();
      return;
    }
    if (n !== last) {
      last = n;
      since = Date.now();
      sampler?.progress();
    } else if (Date.now() - since > IDLE_MS && !(await busy())) return;
    await new Promise((r) => setTimeout(r, QUICK ? 100 : 250));
  }
}

async function runFileWorkload(contender: ContenderId, w: Workload, pub: LineProcess, archive: Archive, sampler: Sampler, http: string | undefined): Promise<void> {
  // Throughput: as fast as the publisher can.
  const dl0 = await archive.deadLettered(w);
  const rc0 = await archive.received(w);
  const m0 = await scrape(http);
  const wall0 = Date.now();
  const daemonPid = http ? sampler.roots[0]! : undefined;
  const daemonNode = daemonPid !== undefined ? (children().get(daemonPid) ?? []).concat(daemonPid) : [];
  const threads0 = daemonNode.map(threadTicks);
  sampler.mark();
  const p = await publish(pub, w.event, w.count, TP_RATE, 'tp');
  await settle(() => archive.files('tp', w), w.count * w.filesPerEvent, () => archive.busy(w), sampler);
  const cpu = sampler.cpuPercent();
  const peak = { ...sampler.peak };
  const deadLettered = (await archive.deadLettered(w)) - dl0;
  const received = (await archive.received(w)) - rc0;
  const wallS = (Date.now() - wall0) / 1000;
  const inside = internals(m0, await scrape(http), wallS);
  const split = daemonNode.map((pid, i) => threadSplit(threads0[i]!, threadTicks(pid), wallS)).filter((x) => x !== '').join('; ');
  if (inside) notes.push(`${contender} ${w.id} throughput run: ${inside}; CPU by thread over ${wallS.toFixed(1)} s: ${split}`);
  const files = archive.scan('tp', w);
  const archivedEvents = new Set(files.map((f) => f.seq)).size;
  const completeEvents = files.length / w.filesPerEvent;
  const { eventsPerS, mbPerS } = fileRates(files, w);
  const result: Result = {
    contender,
    workload: w.id,
    published: p.count,
    archived: archivedEvents,
    deadLettered,
    lost: p.count - Math.floor(completeEvents) - deadLettered,
    archivedComplete: Math.floor(completeEvents),
    eventsPerS,
    mbPerS,
    pubRate: p.rate,
    p50Ms: NaN,
    p99Ms: NaN,
    p99MtimeMs: NaN,
    received,
    latRate: NaN,
    latLost: NaN,
    targetRate: NaN,
    targetLost: NaN,
    rssMiB: peak.alone / MiB,
    rssWithBridgeMiB: peak.withBridge / MiB,
    cpuPct: cpu.alone,
    cpuWithBridgePct: cpu.withBridge,
  };
  log(`${contender} ${w.id}: ${p.count} published (${p.rate.toFixed(0)}/s), ${files.length} files, ${received} received, ${eventsPerS.toFixed(1)} ev/s, ${mbPerS.toFixed(1)} MB/s, lost ${result.lost}, dead-lettered ${deadLettered}, RSS ${result.rssMiB.toFixed(0)} MiB, CPU ${result.cpuPct.toFixed(0)} %`);

  // json1k: "≥ 3× herostools, zero loss at that rate" is judged by a run published at that rate.
  const ht = find('herostools', w.id);
  if (w.id === 'json1k' && isArchiver(contender) && ht && ht.eventsPerS > 0) {
    const rate = 3 * ht.eventsPerS;
    const count = Math.round(rate * (QUICK ? 1 : 2));
    const tp = await publish(pub, w.event, count, rate, 'tgt');
    await settle(() => archive.files('tgt', w), count * w.filesPerEvent, () => archive.busy(w));
    const archived = archive.scan('tgt', w);
    result.targetRate = tp.rate;
    result.targetLost = tp.count - Math.floor(archived.length / w.filesPerEvent);
    log(`${contender} ${w.id} at 3× herostools (${tp.rate.toFixed(0)} ev/s published): ${tp.count - result.targetLost} of ${tp.count} archived at ${fileRates(archived, w).eventsPerS.toFixed(0)} ev/s, lost ${result.targetLost}`);
  }

  // Latency at half the sustained rate.
  if (w.latency && Number.isFinite(eventsPerS) && eventsPerS > 0) {
    const rate = 0.5 * Math.min(eventsPerS, p.rate);
    const count = Math.max(20, Math.min(QUICK ? 2000 : 10000, Math.round(rate * LATENCY_SECONDS)));
    const latDir = archive.dir('lat', w);
    mkdirSync(latDir, { recursive: true });
    const watcher = lineProcess('watch-files', process.execPath, [path.join(repoRoot, 'bench', 'watch-files.ts'), latDir]);
    await waitReady(watcher);
    const lm0 = await scrape(http);
    const lwall0 = Date.now();
    const lp = await publish(pub, w.event, count, rate, 'lat');
    await settle(() => archive.files('lat', w), count * w.filesPerEvent, () => archive.busy(w));
    await new Promise((r) => setTimeout(r, 200));
    const seen = JSON.parse(await watcher.ask('report', (l) => l.startsWith('{'))) as Record<string, number>;
    watcher.child.stdin!.write('quit\n');
    await watcher.stop();
    const linside = internals(lm0, await scrape(http), (Date.now() - lwall0) / 1000);
    if (linside) notes.push(`${contender} ${w.id} latency run: ${linside}`);
    const scanned = archive.scan('lat', w);
    const lat = scanned.map((f) => (seen[f.name] !== undefined ? Number(BigInt(seen[f.name]!) - f.tNs) / 1e6 : NaN)).filter(Number.isFinite).sort((a, b) => a - b);
    const latM = scanned.map((f) => Number(f.mtimeNs - f.tNs) / 1e6).sort((a, b) => a - b);
    result.p99MtimeMs = percentile(latM, 99);
    result.p50Ms = percentile(lat, 50);
    result.p99Ms = percentile(lat, 99);
    result.latRate = rate;
    result.latLost = lp.count - Math.floor(scanned.length / w.filesPerEvent);
    log(`${contender} ${w.id} latency at ${rate.toFixed(1)} ev/s: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (mtime: ${result.p99MtimeMs.toFixed(2)} ms), lost ${result.latLost}`);
  }
  results.push(result);
  archive.clear(w);
}

async function runRawWorkload(contender: ContenderId, w: Workload, pub: LineProcess, sub: LineProcess, sampler: Sampler): Promise<void> {
  const key = `${KEY_PREFIX}/${w.event}`;
  type Counter = { count: number; bytes: number; first: number; last: number };
  const report = async (): Promise<Counter | undefined> => (JSON.parse(await sub.ask('report', (l) => l.startsWith('{'))) as Record<string, Counter>)[key];
  await sub.ask('reset', (l) => l === 'ok');
  sampler.mark();
  const p = await publish(pub, w.event, w.count, TP_RATE, 'tp');
  await settle(async () => (await report())?.count ?? 0, w.count, async () => false, sampler);
  const cpu = sampler.cpuPercent();
  const c = (await report()) ?? { count: 0, bytes: 0, first: 0, last: 0 };
  const span = (c.last - c.first) / 1e9;
  const r: Result = {
    contender,
    workload: w.id,
    published: p.count,
    archived: c.count,
    deadLettered: 0,
    lost: p.count - c.count,
    archivedComplete: c.count,
    eventsPerS: span > 0 ? (c.count - 1) / span : NaN,
    mbPerS: span > 0 ? (c.bytes * (1 - 1 / Math.max(1, c.count))) / 1e6 / span : NaN,
    pubRate: p.rate,
    p50Ms: NaN,
    p99Ms: NaN,
    p99MtimeMs: NaN,
    received: c.count,
    latRate: NaN,
    latLost: NaN,
    targetRate: NaN,
    targetLost: NaN,
    rssMiB: sampler.peak.alone / MiB,
    rssWithBridgeMiB: sampler.peak.withBridge / MiB,
    cpuPct: cpu.alone,
    cpuWithBridgePct: cpu.withBridge,
  };
  results.push(r);
  log(`${contender} ${w.id}: ${p.count} published (${p.rate.toFixed(0)}/s), ${c.count} received, ${r.eventsPerS.toFixed(1)} ev/s, ${r.mbPerS.toFixed(1)} MB/s`);
  // raw-ts / raw-native: publish→receive latency in Node (no decoding cost counted apart) at
  // the rate of the matching heros-archiver latency run, to tell the transport's share of it.
  const ref = contender === 'raw-native' ? (find('native', w.id) ?? find('native-spool', w.id)) : (find('memory', w.id) ?? find('spool', w.id));
  if ((contender === 'raw-ts' || contender === 'raw-native') && w.latency && ref && Number.isFinite(ref.latRate)) {
    const rate = ref.latRate;
    const count = Math.max(20, Math.min(QUICK ? 2000 : 10000, Math.round(rate * LATENCY_SECONDS)));
    await sub.ask('reset', (l) => l === 'ok');
    await sub.ask('latency on', (l) => l === 'ok');
    await publish(pub, w.event, count, rate, 'lat');
    await settle(async () => (await report())?.count ?? 0, count, async () => false);
    const lc = (await report()) as (Counter & { p50Ms?: number; p99Ms?: number }) | undefined;
    await sub.ask('latency off', (l) => l === 'ok');
    r.p50Ms = lc?.p50Ms ?? NaN;
    r.p99Ms = lc?.p99Ms ?? NaN;
    r.latRate = rate;
    r.latLost = count - (lc?.count ?? 0);
    log(`${contender} ${w.id} latency (publish→receive in Node) at ${rate.toFixed(1)} ev/s: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, lost ${r.latLost}`);
  }
}

async function runContender(contender: ContenderId, work: string, workloads: readonly Workload[]): Promise<void> {
  // One daemon per workload (the default order) is measured and named per workload.
  const label = workloads.length === 1 ? `${contender} ${workloads[0]!.id}` : contender;
  const profDir = path.join(work, contender, `cpu-prof-${workloads.map((w) => w.id).join('-')}`);
  const probe = await fileProbe(work, 64 * 1024);
  fsAlone.set(workloads.length === 1 ? `${contender}/${workloads[0]!.id}` : contender, probe);
  log(`--- ${label} (load average ${os.loadavg()[0]!.toFixed(2)}; one 64 KiB file written alone: p50 ${probe.p50Ms.toFixed(2)} ms, p99 ${probe.p99Ms.toFixed(2)} ms)`);
  loads.push(`${label}: 1-min load average ${os.loadavg()[0]!.toFixed(2)} at its start; one 64 KiB file written alone (create, write, close, rename; 400 files 1 ms apart) took p50 ${probe.p50Ms.toFixed(2)} ms, p99 ${probe.p99Ms.toFixed(2)} ms just before`);
  const dir = path.join(work, contender);
  mkdirSync(dir, { recursive: true });
  const bridge: TestBridge = await startTestBridge();
  const pub = lineProcess('publisher', pythonBin(), [path.join(repoRoot, 'bench', 'python', 'publisher.py'), bridge.endpoint]);
  await waitReady(pub);
  let proc: GroupProcess;
  let sub: LineProcess | undefined;
  let archive: Archive | undefined;
  let usesBridge = true;
  let daemonHttp: string | undefined;
  const archiveRoot = path.join(dir, 'archive');
  if (contender === 'raw-py') {
    sub = lineProcess('raw-py', pythonBin(), [path.join(repoRoot, 'bench', 'python', 'raw_sub.py'), bridge.endpoint, `${KEY_PREFIX}/**`]);
    proc = sub;
    usesBridge = false;
  } else if (contender === 'raw-ts' || contender === 'raw-native') {
    const target = contender === 'raw-ts' ? bridge.url : `native:${bridge.endpoint}`;
    sub = lineProcess(contender, process.execPath, [path.join(repoRoot, 'bench', 'raw-zenoh-ts.ts'), target, `${KEY_PREFIX}/**`]);
    proc = sub;
    if (contender === 'raw-native') usesBridge = false;
  } else if (contender === 'herostools') {
    proc = startRealBoss(manifestEntries(archiveRoot, 'herostools', workloads), { endpoint: bridge.endpoint, cwd: dir });
    archive = fileArchive(archiveRoot);
    usesBridge = false;
  } else {
    const manifest = path.join(dir, 'manifest.json');
    const flavour = ARCHIVERS[contender]!;
    writeFileSync(manifest, `[\n${manifestEntries(archiveRoot, flavour.durability, workloads).join(',\n')}\n]\n`);
    daemonHttp = `127.0.0.1:${await findFreePort()}`;
    const env: NodeJS.ProcessEnv = {};
    if (args['cpu-prof']) {
      mkdirSync(profDir, { recursive: true });
      env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${profDir}`;
    }
    try {
      assertBuilt();
    } catch (err) {
      const msg = `dist/ may not match src/ (${(err as Error).message.split(':')[0]}); measured what dist/ holds`;
      log(`warning: ${msg}`);
      if (!notes.includes(msg)) notes.push(msg);
    }
    // --bus native: a Zenoh peer of the bridge's, as BOSS is; otherwise zenoh-ts over the bridge's WebSocket.
    const busArgs = flavour.native ? ['--bus', 'native', '--bridge-connect', bridge.endpoint, '--bridge-listen', 'tcp/127.0.0.1:0', '--no-multicast-scouting'] : ['--zenoh', bridge.url];
    if (flavour.native) usesBridge = false;
    proc = await startBenchDaemon(manifest, busArgs, dir, daemonHttp, env, args['daemon-args']?.split(' ').filter(Boolean) ?? []);
    archive = fileArchive(archiveRoot, daemonHttp);
  }
  if (sub) await waitReady(sub);

  // Warm-up: publish probes until every actor (or the raw subscriber) has seen one, so that no
  // measured event can miss a subscription still being declared.
  let probes = 0;
  const probeOk = async (): Promise<boolean> => {
    if (sub) {
      const counts = JSON.parse(await sub.ask('report', (l) => l.startsWith('{'))) as Record<string, unknown>;
      return workloads.every((w) => counts[`${KEY_PREFIX}/${w.event}`] !== undefined);
    }
    return workloads.every((w) => archive!.files('probe', w) > 0);
  };
  await waitFor(
    async () => {
      if (await probeOk()) return true;
      probes++;
      for (const w of workloads) await publish(pub, w.event, 1, 0, 'probe');
      return false;
    },
    `${contender}: a probe through every subscription`,
    180_000,
    500,
  );
  log(`${label} live after ${probes} probe round(s)`);

  // Warm-up, not measured: a fresh process (V8's JIT and heap sizing for the daemon, Python's
  // caches for BOSS) first takes half the throughput run's events flat out, as a long-running
  // archiver has taken many before the ones that count. Waits until its files stop coming.
  for (const w of workloads) {
    const n = Math.max(5, Math.round(w.count / 2));
    await publish(pub, w.event, n, args.rate ? Number(args.rate) : 0, 'warmup');
    const key = `${KEY_PREFIX}/${w.event}`;
    const seen = async (): Promise<number> =>
      sub ? ((JSON.parse(await sub.ask('report', (l) => l.startsWith('{'))) as Record<string, { count: number }>)[key]?.count ?? 0) : archive!.files('warmup', w) / w.filesPerEvent;
    let last = -1;
    let still = 0;
    // Done when all are archived, or when the count (files, or a raw subscriber's samples) stops moving.
    await waitFor(
      async () => {
        const now = await seen();
        still = now === last ? still + 1 : 0;
        last = now;
        return (!sub && now >= n) || still >= 10;
      },
      `${label}: the warm-up archived`,
      120_000,
      100,
    ).catch(() => log(`${label}: warm-up still being archived; measuring anyway`));
  }

  const sampler = new Sampler([proc.pid], usesBridge ? bridge.bridge.pid : undefined);
  sampler.start();
  try {
    for (const w of workloads) {
      if (sub) await runRawWorkload(contender, w, pub, sub, sampler);
      else await runFileWorkload(contender, w, pub, archive!, sampler, daemonHttp);
    }
    if (daemonHttp) {
      try {
        const health = (await (await fetch(`http://${daemonHttp}/health`)).json()) as Record<string, unknown>;
        if (health.status !== 'ok' || workloads.length > 1) notes.push(`${label}: /health after the run: ${JSON.stringify(health).slice(0, 300)}`);
      } catch {
        // not essential
      }
    }
  } finally {
    sampler.stop();
    if (sub) sub.child.stdin!.write('quit\n');
    pub.child.stdin!.write('quit\n');
    await Promise.race([pub.exited, new Promise((r) => setTimeout(r, 5000))]);
    await pub.stop();
    await proc.stop();
    await bridge.bridge.stop();
  }
  if (args['cpu-prof'] && isArchiver(contender)) summariseProfiles(profDir, label);
  discard(archiveRoot);
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function summariseProfiles(dir: string, contender: string): void {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
    const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
    const byFn = new Map<string, number>();
    const byFile = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      const url = n.callFrame.url.replace(/^file:\/\//, '').replace(`${repoRoot}/`, '');
      const fn = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`;
      byFn.set(fn, (byFn.get(fn) ?? 0) + us);
      const group = url === '' ? n.callFrame.functionName : url.includes('node_modules/') ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'npm:$1') : url.startsWith('node:') ? 'node:*' : url;
      byFile.set(group, (byFile.get(group) ?? 0) + us);
    }
    const top = (m: Map<string, number>, n: number): string[] =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => `  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${(v / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
    const text = [`CPU profile of the ${contender} daemon (${file}, ${(total / 1e6).toFixed(1)} s sampled), self time by function:`, ...top(byFn, 25), 'by file / package:', ...top(byFile, 15)].join('\n');
    console.log(text);
    notes.push(text);
    console.log(`profile kept at ${path.join(dir, file)} (open in Chrome DevTools)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Limits and machine

let trashed = 0;
/**
 * Moves a finished run's files out of the way instead of deleting them: on a file system mounted
 * with `discard` (as here), freeing many blocks makes the next journal commits slow, and file
 * creation in the following contender's run paid for it (1 ms instead of 40 µs per file in
 * bench/small-files.ts). Everything is deleted at the end.
 */
function discard(p: string): void {
  if (!existsSync(p)) return;
  const trash = path.join(work, 'trash');
  mkdirSync(trash, { recursive: true });
  renameSync(p, path.join(trash, String(trashed++)));
}

const DD_COUNT = QUICK ? 64 : 256;

/** dd's sequential write rate (with fdatasync), the median of three runs. */
function ddRate(dir: string): { mbPerS: number; line: string } {
  const file = path.join(dir, 'dd.bin');
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4M', `count=${DD_COUNT}`, 'conv=fdatasync'], { encoding: 'utf8' });
    discard(file);
    const line = res.stderr.trim().split('\n').pop() ?? '';
    const m = /^(\d+) bytes .* copied, ([\d.]+) s/.exec(line);
    if (m) rates.push(Number(m[1]) / 1e6 / Number(m[2]));
  }
  rates.sort((a, b) => a - b);
  return { mbPerS: rates[1] ?? rates[0] ?? NaN, line: `three runs: ${rates.map((r) => r.toFixed(0)).join(', ')} MB/s` };
}

/**
 * The file system alone, for the latency target: `count` files of `bytes` written as
 * heros-archiver writes one (create a temporary file, write, close, rename), one at a time,
 * 1 ms apart, from this process; p50 and p99 of one file, ms. The files are then discarded.
 */
async function fileProbe(dir: string, bytes: number, count = 400): Promise<{ p50Ms: number; p99Ms: number }> {
  const folder = path.join(dir, `probe-${bytes}-${Date.now()}`);
  mkdirSync(folder, { recursive: true });
  const data = Buffer.alloc(bytes, 0x5a);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const tmp = path.join(folder, `.${i}.tmp`);
    const fd = openSync(tmp, 'wx');
    writeSync(fd, data);
    closeSync(fd);
    renameSync(tmp, path.join(folder, `${i}.bin`));
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 1));
  }
  discard(folder);
  times.sort((a, b) => a - b);
  return { p50Ms: times[Math.floor(count / 2)]!, p99Ms: times[Math.min(count - 1, Math.ceil(count * 0.99) - 1)]! };
}

function sh(cmd: string): string {
  return spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout.trim();
}

function machine(dir: string): Record<string, string> {
  const py = (code: string): string => spawnSync(pythonBin(), ['-c', code], { encoding: 'utf8' }).stdout.trim();
  const mem = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return {
    date: new Date().toISOString(),
    cpu: `${os.cpus()[0]?.model ?? '?'} × ${sh('nproc')} (nproc)`,
    memory: mem ? `${(Number(mem[1]) / 1024 / 1024).toFixed(1)} GiB` : '?',
    disk: `${sh(`findmnt -no SOURCE,FSTYPE,OPTIONS -T ${dir}`)}; ${sh(`df -h --output=size,avail ${dir} | tail -1`)} (size, free)`,
    kernel: sh('uname -sr'),
    node: process.version,
    python: py('import sys; print(sys.version.split()[0])'),
    packages: py("from importlib.metadata import version as v; print(', '.join(f'{p} {v(p)}' for p in ['eclipse-zenoh','heros','herostools','heros-boss','numpy']))"),
    'zenoh-ts': JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', '@eclipse-zenoh', 'zenoh-ts', 'package.json'), 'utf8')).version as string,
    bridge: sh(`${path.join(repoRoot, '.tools', 'bin', 'zenoh-bridge-remote-api')} --version 2>/dev/null | tail -1`),
    'heros-archiver': `${JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version as string} (git ${sh(`git -C ${repoRoot} rev-parse --short HEAD`)}, ${sh(`git -C ${repoRoot} status --porcelain -- src actors | wc -l`)} changed files under src/ and actors/; dist/ built ${statSync(path.join(repoRoot, 'dist', 'src', 'cli.js')).mtime.toISOString()})`,
    load: `${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min load average at the start)`,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');

function find(c: ContenderId, w: string): Result | undefined {
  return results.find((r) => r.contender === c && r.workload === w);
}

function table(disk: number): string[] {
  const head = ['workload', 'contender', 'ev/s', 'MB/s', 'pub ev/s', 'recv', 'lost', 'in archiver', 'dead', 'p50 ms', 'p99 ms', '@ ev/s', 'RSS MiB', '+bridge', 'CPU %', '+bridge', '× herostools', '× disk', '× raw-py', '× raw-ts', '× raw-native'];
  const rows: string[][] = [];
  for (const w of selected) {
    for (const c of contenders) {
      const r = find(c, w.id);
      if (!r) continue;
      const ht = find('herostools', w.id);
      const rp = find('raw-py', w.id);
      const rt = find('raw-ts', w.id);
      const rn = find('raw-native', w.id);
      rows.push([
        w.id,
        c,
        fmt(r.eventsPerS, r.eventsPerS < 100 ? 1 : 0),
        fmt(r.mbPerS, 1),
        fmt(r.pubRate),
        fmt(r.received),
        String(r.lost),
        Number.isFinite(r.received) && isArchiver(c) ? String(r.received - r.archivedComplete - r.deadLettered) : '–',
        String(r.deadLettered),
        fmt(r.p50Ms, 2),
        fmt(r.p99Ms, 2),
        fmt(r.latRate, r.latRate < 100 ? 1 : 0),
        fmt(r.rssMiB),
        r.rssWithBridgeMiB !== r.rssMiB ? fmt(r.rssWithBridgeMiB) : '',
        fmt(r.cpuPct),
        r.cpuWithBridgePct !== r.cpuPct ? fmt(r.cpuWithBridgePct) : '',
        c === 'herostools' ? '1.00×' : ratio(r.eventsPerS, ht?.eventsPerS ?? NaN),
        ratio(r.mbPerS, disk),
        ratio(r.eventsPerS, rp?.eventsPerS ?? NaN),
        ratio(r.eventsPerS, rt?.eventsPerS ?? NaN),
        ratio(r.eventsPerS, rn?.eventsPerS ?? NaN),
      ]);
    }
  }
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return md;
}

function plainTable(md: string[]): string {
  const cells = md.filter((_, i) => i !== 1).map((l) => l.slice(2, -2).split(' | '));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

function targets(disk: number): string[] {
  const out: string[] = [];
  const mark = (ok: boolean | undefined): string => (ok === undefined ? 'NOT MEASURED' : ok ? 'MET' : 'NOT MET');
  for (const c of contenders.filter(isArchiver)) {
    const f4 = find(c, 'f32-4m');
    const ht4 = find('herostools', 'f32-4m');
    out.push(`- ${c}: 4 MiB frames ≥ 85 % of the disk's write rate: ${mark(f4 && f4.mbPerS >= 0.85 * disk)} (${fmt(f4?.mbPerS ?? NaN, 1)} MB/s = ${ratio(f4?.mbPerS ?? NaN, disk)} of dd's ${fmt(disk, 1)} MB/s)`);
    out.push(`- ${c}: 4 MiB frames ≥ 1.5× herostools: ${mark(f4 && ht4 ? f4.mbPerS >= 1.5 * ht4.mbPerS : undefined)} (${ratio(f4?.mbPerS ?? NaN, ht4?.mbPerS ?? NaN)})`);
    const j = find(c, 'json1k');
    const htj = find('herostools', 'json1k');
    out.push(
      `- ${c}: 1 KiB JSON ≥ 3× herostools events/s, zero loss at that rate: ${mark(j && htj && Number.isFinite(j.targetLost) ? j.eventsPerS >= 3 * htj.eventsPerS && j.targetLost === 0 : undefined)} (${ratio(j?.eventsPerS ?? NaN, htj?.eventsPerS ?? NaN)} at full speed; published at 3× herostools' rate, ${fmt(j?.targetRate ?? NaN)} ev/s: lost ${Number.isFinite(j?.targetLost ?? NaN) ? j!.targetLost : '–'})`,
    );
    const l = find(c, 'f32-64k');
    const alone = fsAlone.get(`${c}/f32-64k`) ?? fsAlone.get(c);
    out.push(`- ${c}: p99 publish→file ≤ 5 ms for 64 KiB at half load: ${mark(l && Number.isFinite(l.p99Ms) ? l.p99Ms <= 5 : undefined)} (p99 ${fmt(l?.p99Ms ?? NaN, 2)} ms at ${fmt(l?.latRate ?? NaN)} ev/s${alone ? `; the file system alone just before: p50 ${fmt(alone.p50Ms, 2)} ms, p99 ${fmt(alone.p99Ms, 2)} ms per file` : ''})`);
    const mine = results.filter((r) => r.contender === c);
    const maxRss = Math.max(...mine.map((r) => r.rssMiB));
    const maxRssB = Math.max(...mine.map((r) => r.rssWithBridgeMiB));
    out.push(`- ${c}: peak RSS ≤ 200 MiB: ${mark(mine.length ? maxRss <= 200 : undefined)} without the bridge (${fmt(maxRss)} MiB); ${mark(mine.length ? maxRssB <= 200 : undefined)} with it (${fmt(maxRssB)} MiB)`);
    const lossy = mine.filter((r) => r.lost !== 0 || (Number.isFinite(r.latLost) && r.latLost !== 0));
    const inside = mine.filter((r) => r.received - r.archivedComplete - r.deadLettered !== 0);
    out.push(`- ${c}: zero loss, publisher to file: ${mark(mine.length ? lossy.length === 0 : undefined)}${lossy.length ? ` (${lossy.map((r) => `${r.workload}: ${r.lost} of ${r.published} at full speed, ${Number.isFinite(r.latLost) ? r.latLost : 0} at half load`).join('; ')})` : ''}`);
    out.push(`- ${c}: zero loss of what the archiver received: ${mark(mine.length ? inside.length === 0 : undefined)}${inside.length ? ` (${inside.map((r) => `${r.workload}: ${r.received - r.archivedComplete - r.deadLettered}`).join('; ')})` : ''}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main

const base = args.dir ?? os.tmpdir();
const work = await mkdtemp(path.join(base, 'heros-archiver-bench-'));
const started = Date.now();
const info = machine(work);
log(`work folder ${work}; workloads ${selected.map((w) => w.id).join(',')}; contenders ${contenders.join(',')}${QUICK ? ' (quick)' : ''}`);
const dd = ddRate(work);
log(`disk: ${dd.line}`);

const stop = async (): Promise<void> => {
  await stopAll();
  rmSync(work, { recursive: true, force: true });
};
process.on('SIGINT', () => void stop().then(() => process.exit(130)));
try {
  if (args.order === 'contender') for (const c of contenders) await runContender(c, work, selected);
  else for (const w of selected) for (const c of contenders) await runContender(c, work, [w]);
} finally {
  await stopAll();
}

const md = table(dd.mbPerS);
const summary = targets(dd.mbPerS);
console.log(`\n${plainTable(md)}\n`);
console.log(`disk (dd bs=4M conv=fdatasync): ${fmt(dd.mbPerS, 1)} MB/s`);
console.log(summary.join('\n'));
const minutes = ((Date.now() - started) / 60000).toFixed(1);

const out = args.out ?? (QUICK ? path.join(os.tmpdir(), 'heros-archiver-bench-RESULTS.quick.md') : path.join(repoRoot, 'bench', 'RESULTS.md'));
const report = [
  `# heros-archiver vs herostools — benchmark results${QUICK ? ' (--quick smoke run: numbers are indicative only)' : ''}`,
  '',
  `Produced by \`node bench/run.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` on ${info.date} in ${minutes} min.`,
  '',
  '## Machine',
  '',
  ...Object.entries(info).map(([k, v]) => `- **${k}**: ${v}`),
  `- **disk write rate** (\`dd if=/dev/zero bs=4M count=${DD_COUNT} conv=fdatasync\`, median of three): ${fmt(dd.mbPerS, 1)} MB/s (${dd.line})`,
  '',
  '## Workloads',
  '',
  ...selected.map((w) => `- **${w.id}**: ${w.note}; ${w.count} events in the throughput run${w.id === 'json1k' ? ", then (heros-archiver) 2 s published at 3× herostools' sustained rate, for the loss at that rate" : ''}${w.latency ? ', then a latency run at half the sustained rate' : ''}`),
  '',
  '## Results',
  '',
  ...md,
  '',
  'Columns: **ev/s**, **MB/s** sustained (archived files, or received samples for the raw limits, over the time from the first to the last; MB = 10⁶ bytes of files written); ' +
    '**pub ev/s** what the publisher achieved; **recv** events the contender received (heros-archiver: its `received` counter; raw: samples; – for herostools, which has no counter); **lost** = published − archived − dead-lettered in the throughput run (the publisher floods: Zenoh drops what a subscriber cannot take, before it reaches the archiver); **in archiver** = received − archived − dead-lettered, what heros-archiver itself lost; **dead** dead-lettered; ' +
    '**p50/p99 ms** publish→file (raw-ts/raw-native: publish→sample in Node, at the latency-run rate of heros-archiver on the same path) (publisher `time_ns()` in the metadata, rendered into the file name, against the time of the last inotify event of the file — the rename of the finished temporary file for heros-archiver, the last write for herostools — seen by bench/watch-files.ts; file mtimes come from the coarse kernel clock and can lag by a tick) at **@ ev/s**, half the sustained rate; ' +
    '**RSS MiB** peak resident memory of the process tree (BOSS: all actor processes; heros-archiver: the daemon), **+bridge** with the zenoh-bridge-remote-api it reads from; ' +
    '**CPU %** of one core (200 % = both cores), /proc utime+stime of the tree from the start of the throughput run to the last progress seen (new file or sample; polled every 100–250 ms); **× herostools** events/s ratio; **× disk** MB/s against dd; **× raw-py / × raw-ts / × raw-native** events/s against the receive limits.',
  '',
  '## Targets',
  '',
  ...summary,
  '',
  '## Load on the machine during the run',
  '',
  ...loads.map((l) => `- ${l}`),
  '',
  ...(notes.length ? ['## Notes', '', ...notes.map((n) => (n.includes('\n') ? `\`\`\`\n${n}\n\`\`\`` : `- ${n}`)), ''] : []),
].join('\n');
writeFileSync(out, `${report}\n`);
console.log(`\nreport written to ${out}`);
rmSync(work, { recursive: true, force: true });
process.exit(0);
