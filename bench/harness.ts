/**
 * What the benchmarks that run real processes share: the daemon's modules from dist/, the
 * bridge and process helpers of the interop tests, processes spoken to line by line (the
 * Python publisher and subscribers), and the log.
 */
import '../scripts/ts-source-hook.ts';
import { registerHooks } from 'node:module';
import path from 'node:path';

// The daemon's modules come from dist/ (what bin/heros-archiver runs; some sources use
// TypeScript syntax that Node's type stripping does not accept): `npm run build` first.
const SRC = new URL('../src/', import.meta.url).href;
const DIST = new URL('../dist/src/', import.meta.url).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.startsWith('.') && context.parentURL) {
      const url = new URL(specifier, context.parentURL).href;
      if (url.startsWith(SRC)) return nextResolve(DIST + url.slice(SRC.length).replace(/\.ts$/, '.js'), context);
    }
    return nextResolve(specifier, context);
  },
});
const helpers = await import('../test/interop/helpers.ts');
const processes = await import('../test/interop/processes.ts');
const python = await import('../test/helpers/python.ts');
const bridgeProcess = await import('../dist/src/bus/bridge-process.js');
export const { startTestBridge, stopAll, waitFor } = helpers;
export const { assertBuilt, startGroupProcess, startRealBoss } = processes;
export const { findFreePort } = bridgeProcess;
export const { pythonBin, repoRoot } = python;
export type GroupProcess = import('../test/interop/processes.ts').GroupProcess;
export type TestBridge = import('../test/interop/helpers.ts').TestBridge;

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface LineProcess extends GroupProcess {
  /** Writes `line`, resolves with the first stdout line after it that matches `answer`. */
  ask(line: string, answer: (l: string) => boolean): Promise<string>;
}

export function lineProcess(name: string, command: string, argv: string[], env: NodeJS.ProcessEnv = {}): LineProcess {
  const e: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', ...env };
  delete e.RUST_LOG;
  const proc = startGroupProcess(name, command, argv, { env: e, graceMs: 5000 });
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (line: string, answer: (l: string) => boolean): Promise<string> => {
    const run = async (): Promise<string> => {
      const from = proc.stdout.length;
      if (process.env.BENCH_DEBUG) log(`${name} <- ${line}`);
      proc.child.stdin!.write(`${line}\n`);
      let found = '';
      await waitFor(
        () => {
          const exit = proc.exit();
          if (exit) throw new Error(`${name} exited (${exit.code ?? exit.signal})\n${proc.tail()}`);
          found = proc.stdout.slice(from).find(answer) ?? '';
          return found !== '';
        },
        `${name}: answer to "${line}"`,
        600_000,
        20,
      );
      return found;
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };
  return { ...proc, ask };
}

export async function waitReady(p: GroupProcess): Promise<void> {
  await waitFor(
    () => {
      const exit = p.exit();
      if (exit) throw new Error(`${p.name} exited (${exit.code ?? exit.signal})\n${p.tail()}`);
      return p.stdout.includes('ready');
    },
    `${p.name} to be ready`,
    120_000,
  );
}

export interface PublishResult {
  count: number;
  firstNs: bigint;
  lastNs: bigint;
  /** Events/s the publisher achieved. */
  rate: number;
}

export async function publish(pub: LineProcess, event: string, count: number, rate: number, phase: string): Promise<PublishResult> {
  const done = await pub.ask(`run ${event} ${count} ${rate} ${phase}`, (l) => l.startsWith('done '));
  const [, n, first, last] = done.split(' ');
  const firstNs = BigInt(first!);
  const lastNs = BigInt(last!);
  const span = Number(lastNs - firstNs) / 1e9;
  return { count: Number(n), firstNs, lastNs, rate: span > 0 ? (Number(n) - 1) / span : Infinity };
}

/**
 * Starts the heros-archiver daemon (bin/heros-archiver, so dist/) on `manifest` with the bus
 * flags `busArgs` (`--zenoh <bridge url>`, or `--bus native …`), with its state under `dir` and its HTTP endpoint on `http`; resolves
 * once /ready answers 200. `env` is added to this process's environment (RUST_LOG removed).
 */
export async function startBenchDaemon(manifest: string, busArgs: readonly string[], dir: string, http: string, env: NodeJS.ProcessEnv = {}, extraArgs: readonly string[] = []): Promise<GroupProcess> {
  const denv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete denv.RUST_LOG;
  const daemon = startGroupProcess(
    'heros-archiver',
    path.join(repoRoot, 'bin', 'heros-archiver'),
    ['run', manifest, ...busArgs, '--root', dir, '--state-dir', path.join(dir, 'state'), '--http', http, '--log-level', 'warn', ...extraArgs],
    { cwd: dir, env: denv, graceMs: 40_000 },
  );
  await waitFor(
    async () => {
      if (daemon.exit()) throw new Error(`heros-archiver exited\n${daemon.tail()}`);
      try {
        return (await fetch(`http://${http}/ready`)).status === 200;
      } catch {
        return false;
      }
    },
    'heros-archiver /ready',
    120_000,
    100,
  );
  return daemon;
}
