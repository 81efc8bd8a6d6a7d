/**
 * Arrow end to end: a real Python HERO (bench/python/publisher.py) publishes ~100-byte telemetry
 * records (event `rows100`, a different record each time) through a real bridge, as fast as it
 * can, and each contender writes them as rows of an Arrow IPC stream, with the same batching
 * (`--batch` rows at most, `--batch-ms`, fdatasync per batch with `--fsync batch`):
 *   pyarrow   a Python Zenoh subscriber decoding the events with heros.serdes and writing with
 *             pyarrow (bench/python/arrow_sub.py): the Python writer fed by the same bus
 *   spool     the heros-archiver daemon with one ArrowArchiver, durability "spool"
 *   memory    the same, durability "memory"
 *   raw-ts    the zenoh-ts receive limit: a subscriber that only counts (bench/raw-zenoh-ts.ts)
 * One contender at a time, each with a fresh bridge and publisher.
 *
 *   PATH=.tools/node/bin:$PATH npm run build && node bench/arrow-e2e.ts [--count 100000]
 *        [--contenders pyarrow,spool,memory,raw-ts] [--batch 1024] [--batch-ms 20]
 *        [--fsync batch|none] [--dir D]
 *
 * rows/s = rows on disk ÷ (time of the last batch on disk − time of the first publish); lost =
 * published − rows (the publisher floods: Zenoh drops what a subscriber does not take in time);
 * RSS MiB = peak resident memory of the contender's process (VmHWM), without the bridge. For the
 * daemon it also logs its JS heap and external memory at the peak, and its counters at the end
 * (received < published: Zenoh dropped the rest before the daemon read them).
 * Numbers from a shared machine, to be read as ratios; nothing here is a test.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { findFreePort, lineProcess, log, publish, pythonBin, repoRoot, startBenchDaemon, startTestBridge, waitFor, waitReady } = await import('./harness.ts');
type GroupProcess = import('./harness.ts').GroupProcess;

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    contenders: { type: 'string', default: 'pyarrow,spool,memory,raw-ts' },
    batch: { type: 'string', default: '1024' },
    'batch-ms': { type: 'string', default: '20' },
    fsync: { type: 'string', default: 'batch' },
    dir: { type: 'string' },
  },
});
const COUNT = Number(args.count);
const BATCH = Number(args.batch);
const BATCH_MS = Number(args['batch-ms']);
const FSYNC = args.fsync === 'none' ? 'none' : 'batch';
const HERO = 'bench-pub';
const KEY = `@object/heros/${HERO}/rows100`;
/** Without new rows for this long, a run is over (what did not arrive is lost). */
const IDLE_MS = 3000;

interface Outcome {
  contender: string;
  published: number;
  pubRate: number;
  rows: number;
  rowsPerS: number;
  /** Peak resident memory of the contender's process (VmHWM), without the bridge. */
  peakRssMiB: number;
}

/**
 * Samples the daemon's /metrics every 50 ms until stopped; gives its heap and external memory
 * at the highest resident memory seen, to tell what the peak was made of.
 */
function watchMemory(http: string): () => string {
  let top = 0;
  let at = 'not sampled';
  const timer = setInterval(() => {
    fetch(`http://${http}/metrics`)
      .then((res) => res.text())
      .then((text) => {
        const mib = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
        const rss = mib('process_resident_memory_bytes');
        if (!(rss > top)) return;
        top = rss;
        at = `RSS ${rss.toFixed(0)} MiB: JS heap used ${mib('nodejs_heap_size_used_bytes').toFixed(0)} of ${mib('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${mib('nodejs_external_memory_bytes').toFixed(0)} MiB`;
      })
      .catch(() => undefined);
  }, 50);
  return () => {
    clearInterval(timer);
    return at;
  };
}

function peakRssMiB(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? NaN : Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

/** Rows on disk so far and when the last of them was written (ns since the epoch). */
type Progress = () => Promise<{ rows: number; lastNs: number }>;

async function runContender(contender: string, work: string): Promise<Outcome> {
  const dir = path.join(work, contender);
  mkdirSync(dir, { recursive: true });
  const bridge = await startTestBridge();
  const pub = lineProcess('publisher', pythonBin(), [path.join(repoRoot, 'bench', 'python', 'publisher.py'), bridge.endpoint]);
  await waitReady(pub);
  let proc: GroupProcess;
  let progress: Progress;
  let quit: (() => void) | undefined;
  let http: string | undefined;
  if (contender === 'pyarrow' || contender === 'raw-ts') {
    const out = path.join(dir, 'rows.arrows');
    const sub =
      contender === 'pyarrow'
        ? lineProcess('pyarrow', pythonBin(), [path.join(repoRoot, 'bench', 'python', 'arrow_sub.py'), bridge.endpoint, KEY, out, String(BATCH), String(BATCH_MS), FSYNC])
        : lineProcess('raw-ts', process.execPath, [path.join(repoRoot, 'bench', 'raw-zenoh-ts.ts'), bridge.url, KEY]);
    await waitReady(sub);
    proc = sub;
    quit = () => sub.child.stdin!.write('quit\n');
    progress = async () => {
      const r = JSON.parse(await sub.ask('report', (l) => l.startsWith('{'))) as Record<string, unknown>;
      if (contender === 'pyarrow') return { rows: r.rows as number, lastNs: r.last as number };
      const c = r[KEY] as { count: number; last: number } | undefined;
      return { rows: c?.count ?? 0, lastNs: c?.last ?? 0 };
    };
  } else {
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        _id: 'bench-rows100',
        classname: 'ArrowArchiver',
        arguments: { object_selector: HERO, event_name: 'rows100', durability: contender, batch_rows: BATCH, batch_ms: BATCH_MS, fsync: FSYNC, save_template: `${dir}/archive/{{ phase }}.arrow` },
      }),
    );
    http = `127.0.0.1:${await findFreePort()}`;
    const daemonHttp = http;
    proc = await startBenchDaemon(manifest, ['--zenoh', bridge.url], dir, daemonHttp);
    const stats = async (): Promise<{ stored: number; pending: number }> => {
      const body = (await (await fetch(`http://${daemonHttp}/ready`)).json()) as { actors: { id: string; stats?: { stored: number; pending: number } }[] };
      return body.actors.find((a) => a.id === 'bench-rows100')?.stats ?? { stored: 0, pending: 0 };
    };
    progress = async () => {
      const s = await stats();
      let lastNs = 0;
      try {
        // The stream being written: its mtime is when its last batch went to disk.
        lastNs = Number(statSync(path.join(dir, 'archive', 'tp.arrows'), { bigint: true }).mtimeNs);
      } catch {
        // not started yet
      }
      return { rows: s.stored, lastNs };
    };
  }

  try {
    // Probes until the subscription is live, so that no measured event can miss it.
    await waitFor(
      async () => {
        if ((await progress()).rows > 0) return true;
        await publish(pub, 'rows100', 1, 0, 'probe');
        return false;
      },
      `${contender}: a probe through the subscription`,
      180_000,
      500,
    );
    const base = (await progress()).rows;
    log(`${contender}: live; publishing ${COUNT} records`);
    const memory = http === undefined ? undefined : watchMemory(http);
    const p = await publish(pub, 'rows100', COUNT, 0, 'tp');
    let last = -1;
    let since = Date.now();
    let now = await progress();
    while (now.rows - base < COUNT) {
      if (now.rows !== last) {
        last = now.rows;
        since = Date.now();
      } else if (Date.now() - since > IDLE_MS) break;
      await new Promise((r) => setTimeout(r, 50));
      now = await progress();
    }
    if (memory) log(`${contender}: at its peak, ${memory()}`);
    if (http !== undefined) {
      const body = (await (await fetch(`http://${http}/ready`)).json()) as { actors: { id: string; stats?: Record<string, number> }[] };
      log(`${contender}: counters at the end: ${JSON.stringify(body.actors.find((a) => a.id === 'bench-rows100')?.stats)}`);
    }
    const rows = now.rows - base;
    const span = (now.lastNs - Number(p.firstNs)) / 1e9;
    const outcome = { contender, published: p.count, pubRate: p.rate, rows, rowsPerS: span > 0 ? rows / span : NaN, peakRssMiB: peakRssMiB(proc.pid) };
    log(`${contender}: ${rows} of ${p.count} rows (${p.rate.toFixed(0)}/s published), ${outcome.rowsPerS.toFixed(0)} rows/s, peak RSS ${outcome.peakRssMiB.toFixed(0)} MiB`);
    return outcome;
  } finally {
    quit?.();
    pub.child.stdin!.write('quit\n');
    await Promise.race([pub.exited, new Promise((r) => setTimeout(r, 5000))]);
    await pub.stop();
    await proc.stop();
    await bridge.bridge.stop();
  }
}

const work = await mkdtemp(path.join(args.dir ?? os.tmpdir(), 'heros-archiver-arrow-e2e-'));
log(`work folder ${work}; ${COUNT} records, batch ${BATCH} rows / ${BATCH_MS} ms, fsync ${FSYNC}`);
const outcomes: Outcome[] = [];
try {
  for (const c of args.contenders!.split(',')) outcomes.push(await runContender(c, work));
} finally {
  await rm(work, { recursive: true, force: true });
}
const ref = outcomes.find((o) => o.contender === 'pyarrow');
const limit = outcomes.find((o) => o.contender === 'raw-ts');
console.log(`records of ~100 bytes through the bridge: ${COUNT}, batch ${BATCH} rows / ${BATCH_MS} ms, fsync ${FSYNC}; ${os.cpus().length} cpus, load ${os.loadavg()[0]!.toFixed(2)}`);
console.log(['contender', 'published/s', 'rows', 'lost', 'rows/s', '× pyarrow', '× raw-ts', 'RSS MiB'].map((h) => h.padStart(12)).join(''));
for (const o of outcomes) {
  const ratio = (x: Outcome | undefined): string => (x && x.rowsPerS > 0 ? `${(o.rowsPerS / x.rowsPerS).toFixed(2)}×` : '–');
  console.log([o.contender, o.pubRate.toFixed(0), String(o.rows), String(o.published - o.rows), o.rowsPerS.toFixed(0), ratio(ref), ratio(limit), o.peakRssMiB.toFixed(0)].map((c) => c.padStart(12)).join(''));
}
