import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

const UNIT = path.join(repoRoot, 'examples', 'systemd', 'heros-archiver.service');
const LAUNCHER = '/opt/heros-archiver/bin/heros-archiver';
const unitText = readFileSync(UNIT, 'utf8');

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!hasAnalyze) console.warn('SKIPPED: systemd-analyze is not installed; examples/systemd/heros-archiver.service was NOT verified');

/** `Key=value` lines of one section, comments and blank lines dropped. */
function section(name: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let current = '';
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== name) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}

function seconds(value: string | undefined): number {
  const m = /^(\d+)(s|min)?$/.exec(value ?? '');
  if (!m) throw new Error(`not a simple time span: ${value}`);
  return Number(m[1]) * (m[2] === 'min' ? 60 : 1);
}

describe('examples/systemd/heros-archiver.service', () => {
  const service = section('Service');
  const one = (key: string) => {
    const v = service.get(key);
    expect(v, `[Service] ${key}=`).toBeDefined();
    return v![v!.length - 1]!;
  };

  it('has the settings the daemon relies on', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all'); // systemd-notify, a child, sends the datagrams
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')).toBe('78');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(one('User')).toBe('heros-archiver');
    expect(service.has('DynamicUser')).toBe(false);
    for (const [key, value] of [
      ['ProtectSystem', 'strict'],
      ['StateDirectory', 'heros-archiver'],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ProtectHome', 'yes'],
    ] as const) {
      expect(one(key), key).toBe(value);
    }
    expect(seconds(one('WatchdogSec'))).toBeGreaterThan(0);
  });

  it('starts the launcher with --root, writes only there, and outwaits the drain', () => {
    const exec = one('ExecStart');
    expect(exec.startsWith(`${LAUNCHER} run `)).toBe(true);
    const root = /--root (\S+)/.exec(exec)?.[1];
    expect(root).toBeDefined();
    expect(one('ReadWritePaths').split(/\s+/)).toContain(root);
    const drainMs = Number(/--drain-timeout (\d+)/.exec(exec)?.[1] ?? 30_000);
    expect(seconds(one('TimeoutStopSec')) * 1000).toBeGreaterThan(drainMs);
    expect(seconds(one('TimeoutAbortSec')) * 1000).toBeGreaterThan(drainMs);
    // Metrics stay on loopback.
    expect(/--http (\S+)/.exec(exec)?.[1]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  describe.skipIf(!hasAnalyze)('systemd-analyze verify', () => {
    let dir: { dir: string; cleanup: () => Promise<void> };
    beforeEach(async () => {
      dir = await tempDir('ha-unit-');
    });
    afterEach(async () => {
      await dir.cleanup();
    });

    it('reports nothing about the unit', () => {
      // verify checks that ExecStart is executable: point it at the real launcher, through a
      // temporary path that has no spaces to quote.
      const launcher = path.join(dir.dir, 'heros-archiver');
      symlinkSync(path.join(repoRoot, 'bin', 'heros-archiver'), launcher);
      expect(unitText.split(LAUNCHER).length - 1, 'the launcher path appears once').toBe(1);
      const unitPath = path.join(dir.dir, 'heros-archiver.service');
      writeFileSync(unitPath, unitText.replace(LAUNCHER, launcher));

      const res = spawnSync('systemd-analyze', ['verify', '--man=no', unitPath], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
      const output = `${res.stdout}${res.stderr}`;
      // Complaints about other units of this machine are not ours to fix; any about this one fail.
      const ours = output.split('\n').filter((l) => l.includes('heros-archiver.service') || l.includes(dir.dir));
      expect(ours, output).toEqual([]);
      expect(res.status, output).toBe(0);
    });

    it('would catch a mistake (the check is not vacuous)', () => {
      const unitPath = path.join(dir.dir, 'heros-archiver.service');
      writeFileSync(unitPath, unitText.replace('WatchdogSec=', 'WatchdogSecs=').replace(LAUNCHER, path.join(dir.dir, 'missing-launcher')));
      const res = spawnSync('systemd-analyze', ['verify', '--man=no', unitPath], { encoding: 'utf8' });
      const output = `${res.stdout}${res.stderr}`;
      expect(output).toMatch(/heros-archiver\.service:\d+: Unknown key (name )?'WatchdogSecs'/);
      expect(output).toMatch(/is not executable/);
    });
  });
});
