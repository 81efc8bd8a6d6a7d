import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The project's Python venv interpreter (created by scripts/setup-python.sh). */
export function pythonBin(): string {
  const bin = path.join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(bin)) {
    throw new Error(`Python venv missing at ${bin}: run scripts/setup.sh first`);
  }
  return bin;
}

/**
 * Runs a Python script (source text) in the venv with `input` on stdin and returns stdout.
 * Throws with stderr when the script fails, so a broken differential test says why.
 */
export function runPython(source: string, input: string | Uint8Array = '', args: string[] = []): Buffer {
  const res = spawnSync(pythonBin(), ['-c', source, ...args], {
    input,
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, PYTHONHASHSEED: '0' },
  });
  if (res.status !== 0) {
    throw new Error(`python failed (${res.status}): ${res.stderr.toString()}`);
  }
  return res.stdout;
}
