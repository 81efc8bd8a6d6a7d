import { spawn } from 'node:child_process';

/** How a child script ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs a TypeScript script with Node (type stripping) and calls `onLine` for each stdout line,
 * with a function that SIGKILLs the child — the crash tests kill it at a chosen moment.
 */
export function runChildScript(script: string, args: readonly string[], onLine: (line: string, kill: () => void) => void): Promise<ChildExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let buf = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i), () => child.kill('SIGKILL'));
        buf = buf.slice(i + 1);
      }
    });
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}
