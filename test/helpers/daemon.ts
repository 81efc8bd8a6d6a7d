import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { until } from './harness.js';
import { repoRoot } from './python.js';

/** The built launcher (`npm run build` first). */
export const bin = path.join(repoRoot, 'bin/heros-archiver');

/** A free loopback port (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A `heros-archiver` process whose stdout lines are kept (parsed when JSON). */
export interface Daemon {
  child: ChildProcess;
  lines: string[];
  records: () => Record<string, unknown>[];
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Spawns `heros-archiver …args` in `cwd`. */
export function spawnDaemon(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Daemon {
  const child = spawn(bin, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const records = () =>
    lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { child, lines, records, exited, stderr: () => stderr };
}

/** GET /ready of a daemon, or undefined while it does not answer. */
export async function ready(port: number): Promise<{ status: number; body: { phase: string; name?: string; actors: { id: string; state: string; classname: string }[] } } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ready`);
    return { status: res.status, body: (await res.json()) as never };
  } catch {
    return undefined;
  }
}

/** Waits until /ready answers with phase `running`; returns the report. */
export async function waitRunning(port: number, d: Daemon, what = 'daemon running') {
  let last: Awaited<ReturnType<typeof ready>>;
  await until(async () => {
    if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}: ${d.stderr()}\n${d.lines.join('\n')}`);
    last = await ready(port);
    return last?.body.phase === 'running';
  }, 20_000, what);
  return last!;
}
