import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';
import { manifestSources } from '../src/manifest-sources.js';
import { bin, freePort, spawnDaemon, waitRunning } from './helpers/daemon.js';
import { tempDir, until } from './helpers/harness.js';

function capture() {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const entry = (id: string) => ({ _id: id, classname: 'herostools.actor.JsonArchiver', arguments: { object_selector: id, event_name: 'reading', save_template: `${id}/{{ seq }}.json` } });

/** A CouchDB-like server on loopback that wants Basic auth `lab:s3cr:t@`. */
async function couch(body: string): Promise<{ server: Server; url: (user: string, password: string) => string; seen: string[] }> {
  const seen: string[] = [];
  const expected = `Basic ${Buffer.from('lab:s3cr:t@').toString('base64')}`;
  const server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? '-'}`);
    if (req.headers.authorization !== expected) {
      res.writeHead(401, 'Unauthorized', { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    server,
    seen,
    url: (user, password) => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/boss/_design/boss/_view/archivers?include_docs=true`,
  };
}

describe('BOSS command-line flags', () => {
  let cleanup = async () => {};
  afterEach(async () => {
    await cleanup();
    cleanup = async () => {};
  });

  it('orders sources as BOSS does and reads $BOSS only when it is set', () => {
    expect(manifestSources([], [], [], ['boss.json'], {})).toEqual([{ kind: 'path', value: 'boss.json' }]);
    expect(manifestSources(['a.json'], ['file:///b.json'], ['LAB'], ['boss.json'], { BOSS: '[]' })).toEqual([
      { kind: 'path', value: 'a.json' },
      { kind: 'url', value: 'file:///b.json' },
      { kind: 'env', value: 'BOSS', implicit: true },
      { kind: 'env', value: 'LAB' },
    ]);
    expect(manifestSources([], [], ['BOSS'], [], {})).toEqual([{ kind: 'env', value: 'BOSS' }]);
  });

  it('validate reads -u file:// URLs, plain paths and folders, and {"rows": [...]} documents', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    await writeFile(path.join(t.dir, 'a.json'), JSON.stringify([entry('a')]));
    await writeFile(path.join(t.dir, 'rows.json'), JSON.stringify({ total_rows: 2, rows: [{ id: 'b', doc: entry('b') }, entry('c')] }));
    const io = capture();
    const code = await main(['validate', '-u', pathToFileURL(path.join(t.dir, 'a.json')).href, '--url', path.join(t.dir, 'rows.json')], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toBe('ok: 3 actors (a: herostools.actor.JsonArchiver, b: herostools.actor.JsonArchiver, c: herostools.actor.JsonArchiver)\n');

    // BOSS's own example spelling, file://local.json: relative to the working directory.
    const relative = capture();
    expect(await main(['validate', '-u', 'file://boss.json'], relative)).toBe(EXIT.OK);
    expect(relative.stdout).toContain('ok: 2 actors (camera-archiver: ');

    const missing = capture();
    expect(await main(['validate', '-u', 'file:///nonexistent/boss.json'], missing)).toBe(EXIT.CONFIG);
    expect(missing.stderr).toContain('cannot read manifest /nonexistent/boss.json');
    const scheme = capture();
    expect(await main(['validate', '-u', 'ftp://127.0.0.1/boss.json'], scheme)).toBe(EXIT.CONFIG);
    expect(scheme.stderr).toContain('only file://, http:// and https:// URLs');
  });

  it('validate fetches http://user:pw@host/… with Basic auth and never shows the password', async () => {
    const db = await couch(JSON.stringify({ rows: [{ doc: entry('remote') }] }));
    cleanup = () => new Promise((r) => db.server.close(() => r()));
    const io = capture();
    expect(await main(['validate', '-u', db.url('lab', 's3cr:t@')], io)).toBe(EXIT.OK);
    expect(io.stdout).toContain('ok: 1 actor (remote: herostools.actor.JsonArchiver)');
    expect(db.seen.at(-1)).toBe(`/boss/_design/boss/_view/archivers?include_docs=true Basic ${Buffer.from('lab:s3cr:t@').toString('base64')}`);

    const wrong = capture();
    expect(await main(['validate', '-u', db.url('lab', 'wrong-secret')], wrong)).toBe(EXIT.CONFIG);
    expect(wrong.stderr).toContain('HTTP 401 Unauthorized');
    expect(wrong.stderr).toContain('lab:***@127.0.0.1');
    expect(wrong.stderr).not.toContain('wrong-secret');
  });

  it('validate reads -e variables and $BOSS, and says which named variables are not set', async () => {
    const saved = { BOSS: process.env.BOSS, LAB_ARCHIVERS: process.env.LAB_ARCHIVERS };
    cleanup = async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    process.env.LAB_ARCHIVERS = JSON.stringify(entry('from-env'));
    delete process.env.BOSS;
    const io = capture();
    expect(await main(['validate', '-e', 'LAB_ARCHIVERS', '-e', 'NOT_SET_HERE'], io)).toBe(EXIT.OK);
    expect(io.stdout).toContain('ok: 1 actor (from-env: ');
    expect(io.stderr).toContain('not set, skipped: $NOT_SET_HERE');

    process.env.BOSS = JSON.stringify({ rows: [entry('boss-default')] });
    const io2 = capture();
    expect(await main(['validate'], io2)).toBe(EXIT.OK);
    expect(io2.stdout).toContain('ok: 1 actor (boss-default: ');

    delete process.env.BOSS;
    const none = capture();
    expect(await main(['validate', '-e', 'NOT_SET_HERE'], none)).toBe(EXIT.CONFIG);
    expect(none.stderr).toContain('no manifest to read: $NOT_SET_HERE is not set');
    const bad = capture();
    process.env.LAB_ARCHIVERS = '{ nope';
    expect(await main(['validate', '-e', 'LAB_ARCHIVERS'], bad)).toBe(EXIT.CONFIG);
    expect(bad.stderr).toContain('env:LAB_ARCHIVERS: not valid JSON');
  });

  it('run refuses an invalid --name with --expose, and an unknown --log level, with ARCHIVER_USAGE (exit 64)', async () => {
    const io = capture();
    expect(await main(['run', '--expose', '--name', 'a/b', '--bus', 'memory'], io)).toBe(EXIT.USAGE);
    expect(io.stderr).toContain('--name:');
    expect(io.stderr).toContain('[ARCHIVER_USAGE]');
    const level = capture();
    expect(await main(['run', '--log', 'LOUD', '--bus', 'memory'], level)).toBe(EXIT.USAGE);
    expect(level.stderr).toContain('--log must be one of');
    const both = capture();
    expect(await main(['run', '--log', 'DEBUG', '--log-level', 'info', '--bus', 'memory'], both)).toBe(EXIT.USAGE);
    expect(both.stderr).toContain('disagree');
    const format = capture();
    expect(await main(['run', '--log-format', 'xml', '--bus', 'memory'], format)).toBe(EXIT.USAGE);
    expect(format.stderr).toContain('--log-format must be json or pretty');
    for (const threads of ['0', 'two', '65']) {
      const wt = capture();
      expect(await main(['run', '--write-threads', threads, '--bus', 'memory'], wt)).toBe(EXIT.USAGE);
      expect(wt.stderr).toContain('--write-threads must be');
    }
    for (const spares of ['-1', 'eight', '257', '1.5']) {
      const sp = capture();
      expect(await main(['run', `--spare-files=${spares}`, '--bus', 'memory'], sp)).toBe(EXIT.USAGE);
      expect(sp.stderr).toContain('--spare-files must be a whole number from 0 to 256');
    }
    const bus = capture();
    expect(await main(['run', '--bus', 'websocket'], bus)).toBe(EXIT.USAGE);
    expect(bus.stderr).toContain('--bus must be bridge, native or memory (got websocket)');
    for (const flag of [['--zenoh', 'ws/127.0.0.1:10000'], ['--bridge-ws', '127.0.0.1:10000']]) {
      for (const kind of ['native', 'memory']) {
        const noBridge = capture();
        expect(await main(['run', '--bus', kind, ...flag], noBridge)).toBe(EXIT.USAGE);
        expect(noBridge.stderr).toContain(`--zenoh and --bridge-ws name a bridge; --bus ${kind} uses none`);
      }
    }
    const buffer = capture();
    expect(await main(['run', '--bus', 'memory', '--receive-buffer-bytes', '1000'], buffer)).toBe(EXIT.USAGE);
    expect(buffer.stderr).toContain('--receive-buffer-bytes applies to the in-process Zenoh session (--bus native), not to --bus memory');
    const viaBridge = capture();
    expect(await main(['run', '--zenoh', 'ws/127.0.0.1:1', '--receive-buffer-bytes', '1000'], viaBridge)).toBe(EXIT.USAGE);
    expect(viaBridge.stderr).toContain('not to --bus bridge');
    const notANumber = capture();
    expect(await main(['run', '--receive-buffer-bytes', 'lots'], notANumber)).toBe(EXIT.USAGE);
    expect(notANumber.stderr).toContain('--receive-buffer-bytes must be a positive whole number');
    const events = capture();
    expect(await main(['run', '--bus', 'bridge', '--receive-buffer-events', '100'], events)).toBe(EXIT.USAGE);
    expect(events.stderr).toContain('--receive-buffer-events applies to the in-process Zenoh session (--bus native), not to --bus bridge');
    const noEvents = capture();
    expect(await main(['run', '--receive-buffer-events', '0'], noEvents)).toBe(EXIT.USAGE);
    expect(noEvents.stderr).toContain('--receive-buffer-events must be a positive whole number');
  });

  it("runs an operator's BOSS command line: -u file:///… --realm lab --name … --no-autostart --log WARNING", async () => {
    const t = await tempDir();
    const manifest = path.join(t.dir, 'archivers.json');
    await writeFile(manifest, JSON.stringify({ rows: [{ doc: entry('cam') }, { doc: entry('sensor') }] }));
    const port = await freePort();
    const d = spawnDaemon(
      ['run', '-u', pathToFileURL(manifest).href, '--realm', 'lab', '--name', 'lab-archiver', '--no-autostart', '--log', 'WARNING', '--bus', 'memory', '--http', `127.0.0.1:${port}`, '--state-dir', path.join(t.dir, 'state')],
      t.dir,
    );
    cleanup = async () => {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
      await t.cleanup();
    };
    const report = await waitRunning(port, d);
    expect(report.body.name).toBe('lab-archiver');
    expect(report.body.actors.map((a) => [a.id, a.state])).toEqual([
      ['cam', 'stopped'],
      ['sensor', 'stopped'],
    ]);
    expect(report.status).toBe(503);
    const status = spawnSync(bin, ['status', '--http', `127.0.0.1:${port}`], { encoding: 'utf8' });
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^name: lab-archiver\nready: no — actor "cam" is stopped; actor "sensor" is stopped\n/);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    // WARNING: no info line was written.
    expect(d.records().filter((r) => r.level === 'info' || r.level === 'debug')).toEqual([]);
  }, 30_000);

  it('puts --name on every log line', async () => {
    const t = await tempDir();
    const manifest = path.join(t.dir, 'boss.json');
    await writeFile(manifest, JSON.stringify([entry('cam')]));
    const port = await freePort();
    const d = spawnDaemon(['run', '--url', manifest, '--name', 'lab-archiver', '--log', 'info', '--bus', 'memory', '--http', `127.0.0.1:${port}`, '--state-dir', path.join(t.dir, 'state')], t.dir);
    cleanup = async () => {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
      await t.cleanup();
    };
    await waitRunning(port, d);
    await until(() => d.records().some((r) => r.msg === 'ready'), 10_000, 'ready line');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    const records = d.records();
    expect(records.length).toBeGreaterThan(3);
    for (const r of records) expect(r).toMatchObject({ name: 'heros-archiver', instance: 'lab-archiver' });
  }, 30_000);

  it('--log-format pretty writes human lines (stdout here is a pipe, where JSON is the default)', async () => {
    const t = await tempDir();
    const manifest = path.join(t.dir, 'boss.json');
    await writeFile(manifest, JSON.stringify([entry('cam')]));
    const port = await freePort();
    const d = spawnDaemon(['run', manifest, '--log-format', 'pretty', '--bus', 'memory', '--http', `127.0.0.1:${port}`, '--state-dir', path.join(t.dir, 'state')], t.dir, { NO_COLOR: '1' });
    cleanup = async () => {
      if (d.child.exitCode === null) d.child.kill('SIGKILL');
      await t.cleanup();
    };
    await waitRunning(port, d);
    await until(() => d.lines.some((l) => / INFO  ready /.test(l)), 10_000, 'pretty ready line');
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(d.records()).toEqual([]);
    expect(d.lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO  cam: actor started classname=herostools\.actor\.JsonArchiver$/));
  }, 30_000);
});
