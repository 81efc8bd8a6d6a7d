import { execFileSync } from 'node:child_process';

/**
 * Mounts a small tmpfs of `size` (`1m`, `4m`) on `dir`; returns the unmount function, or
 * undefined — saying why, loudly — where mounting is not allowed (the test then skips).
 */
export function mountTmpfs(dir: string, size = '1m', what = 'storage fault test'): (() => void) | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return () => execFileSync('umount', ['-l', dir]);
  } catch (err) {
    process.stderr.write(`\n*** ${what} SKIPPED: cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}) ***\n\n`);
    return undefined;
  }
}
