import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bin, freePort, ready, spawnDaemon, waitRunning, type Daemon } from './helpers/daemon.js';
import { tempDir, until } from './helpers/harness.js';
import { startNotifySocket } from './helpers/notify-socket.js';

const hasNotifyTool = spawnSync('systemd-notify', ['--version']).status === 0;

const entry = (id: string, template = `${id}/{{ seq }}.json`) => ({
  _id: id,
  classname: 'JsonArchiver',
  arguments: { object_selector: id, event_name: 'reading', save_template: template },
});

describe('heros-archiver run: reload on SIGHUP', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('applies a valid changed manifest, and keeps the running set when the new one is invalid', async () => {
    const t = await tempDir();
    const manifest = path.join(t.dir, 'boss.json');
    const stateDir = path.join(t.dir, 'state');
    await writeFile(manifest, JSON.stringify([entry('keep'), entry('gone'), entry('change')]));
    const port = await freePort();
    const d: Daemon = spawnDaemon(['run', manifest, '--bus', 'memory', '--http', `127.0.0.1:${port}`, '--state-dir', stateDir, '--root', t.dir], t.dir);
    cleanup = async () => {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
      await t.cleanup();
    };
    const first = await waitRunning(port, d);
    expect(first.body.actors.map((a) => a.id)).toEqual(['keep', 'gone', 'change']);
    expect(existsSync(path.join(stateDir, 'heros-archiver.pid'))).toBe(true);

    // A valid change, applied through `heros-archiver reload` (SIGHUP via the pid file).
    await writeFile(manifest, JSON.stringify([entry('keep'), entry('change', 'elsewhere/{{ seq }}.json'), entry('new')]));
    const sent = spawnSync(bin, ['reload', '--state-dir', stateDir], { encoding: 'utf8' });
    expect(sent.stderr).toBe('');
    expect(sent.status).toBe(0);
    expect(sent.stdout).toContain(`pid ${d.child.pid}`);
    await until(() => d.records().some((r) => typeof r.msg === 'string' && r.msg.startsWith('reload: 1 added')), 20_000, 'reload summary');
    const summary = d.records().find((r) => typeof r.msg === 'string' && r.msg.startsWith('reload: 1 added'));
    expect(summary).toMatchObject({ msg: 'reload: 1 added, 1 removed, 1 changed, 1 unchanged', added: ['new'], removed: ['gone'], changed: ['change'], unchanged: ['keep'] });
    const afterFirstReload = d.records();
    expect(afterFirstReload).toContainEqual(expect.objectContaining({ actor: 'gone', msg: 'actor stopped', reason: 'reload' }));
    expect(afterFirstReload).toContainEqual(expect.objectContaining({ actor: 'change', msg: 'actor stopped', reason: 'reload' }));
    expect(afterFirstReload.filter((r) => r.actor === 'change' && r.msg === 'actor started')).toHaveLength(2);
    expect(afterFirstReload.filter((r) => r.actor === 'new' && r.msg === 'actor started')).toHaveLength(1);
    // Unchanged: started once, never stopped.
    expect(afterFirstReload.filter((r) => r.actor === 'keep').map((r) => r.msg)).toEqual(['subscribed', 'actor started']);
    const second = await waitRunning(port, d, 'running after the reload');
    expect(second.status).toBe(200);
    expect(second.body.actors.map((a) => [a.id, a.state])).toEqual([
      ['keep', 'running'],
      ['change', 'running'],
      ['new', 'running'],
    ]);

    // An invalid manifest: every problem logged, the running set kept, the daemon still up.
    await writeFile(
      manifest,
      JSON.stringify([entry('keep'), { _id: 'bad', classname: 'JsonArchiver', arguments: { object_selector: 'x', event_name: 'e', save_template: 'x', colour: 'red' } }, { _id: 'worse', classname: 'mylab.Nothing' }]),
    );
    d.child.kill('SIGHUP');
    await until(() => d.records().some((r) => r.msg === 'reload: the new manifests are not usable; the running actors are unchanged'), 20_000, 'reload refused');
    const refused = d.records().filter((r) => typeof r.msg === 'string' && r.msg.startsWith('reload: ') && r.level === 'error');
    expect(refused.map((r) => r.msg)).toEqual(
      expect.arrayContaining([expect.stringContaining('[1].arguments.colour: unknown option "colour"'), expect.stringContaining('[2].classname:'), 'reload: the new manifests are not usable; the running actors are unchanged']),
    );
    const third = await waitRunning(port, d, 'running after the refused reload');
    expect(third.status).toBe(200);
    expect(third.body.actors.map((a) => a.id)).toEqual(['keep', 'change', 'new']);
    expect(d.child.exitCode).toBeNull();

    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(existsSync(path.join(stateDir, 'heros-archiver.pid'))).toBe(false);
    expect(await ready(port)).toBeUndefined();
  }, 60_000);

  it.runIf(hasNotifyTool)('tells systemd RELOADING=1 before and READY=1 after a reload', async () => {
    const t = await tempDir();
    const sock = await startNotifySocket(t.dir);
    const manifest = path.join(t.dir, 'boss.json');
    await writeFile(manifest, JSON.stringify([entry('keep')]));
    const port = await freePort();
    const d = spawnDaemon(['run', manifest, '--bus', 'memory', '--http', `127.0.0.1:${port}`, '--state-dir', path.join(t.dir, 'state'), '--root', t.dir], t.dir, { NOTIFY_SOCKET: sock.path });
    cleanup = async () => {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
      await sock.close();
      await t.cleanup();
    };
    await waitRunning(port, d);
    await until(() => sock.messages.some((m) => m.data.startsWith('READY=1')), 10_000, 'READY=1');
    const before = sock.messages.length;
    await writeFile(manifest, JSON.stringify([entry('keep'), entry('new')]));
    d.child.kill('SIGHUP');
    await until(() => sock.messages.slice(before).some((m) => m.data.startsWith('READY=1')), 10_000, 'READY=1 after the reload');
    const after = sock.messages.slice(before).map((m) => m.data);
    expect(after[0]).toMatch(/^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=re-reading the manifests$/);
    expect(after.find((m) => m.startsWith('READY=1'))).toBe('READY=1\nSTATUS=ready: 2/2 actors running, bus connected, 0 stored, 0 dead-lettered, 0 pending');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
  }, 30_000);

  it('reload without a running daemon exits 69', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const r = spawnSync(bin, ['reload', '--state-dir', t.dir], { encoding: 'utf8' });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('no running daemon');
  });
});
