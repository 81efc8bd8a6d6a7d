import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonBin, repoRoot } from '../helpers/python.js';
import { startTestBridge, stopAll, uniqueName, type TestBridge } from './helpers.js';
import { loopbackPeerConfig, startDaemon, startGroupProcess, type DaemonProcess } from './processes.js';

/** Runs hero-client.py --probe: discovers the HERO, reads its liveliness, calls status(). */
async function probe(endpoint: string, name: string): Promise<{ alive: string[]; status: Record<string, { status: string; config: { classname: string } }> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', HEROS_ZENOH_CONFIG: JSON.stringify(loopbackPeerConfig(endpoint)) };
  delete env.RUST_LOG;
  const client = startGroupProcess('hero-probe', pythonBin(), [path.join(repoRoot, 'test/interop/python/hero-client.py'), '--probe', name], { env });
  const exit = await client.exited;
  const line = client.stdout.find((l) => l.includes('"step": "probe"'));
  if (exit.code !== 0 || !line) throw new Error(`hero-client.py --probe failed (code ${exit.code})\n${client.tail(60)}`);
  return JSON.parse(line);
}

describe('heros-archiver run --expose', () => {
  let tb: TestBridge | undefined;
  let daemon: DaemonProcess | undefined;
  let dir = '';
  afterAll(async () => {
    await daemon?.stop();
    await stopAll();
    await tb?.bridge.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes the daemon a HERO that a real Python RemoteHERO finds and calls status() on', async () => {
    tb = await startTestBridge();
    dir = await mkdtemp(path.join(tmpdir(), 'ha-expose-'));
    const name = uniqueName('archiver');
    const manifest = path.join(dir, 'boss.json');
    await writeFile(
      manifest,
      JSON.stringify([
        { _id: uniqueName('readings'), classname: 'herostools.actor.JsonArchiver', arguments: { object_selector: '*', event_name: 'reading', save_template: 'out/{{ n }}.json' } },
      ]),
    );
    daemon = startDaemon(['run', manifest, '--zenoh', tb.url, '--expose', '--name', name, '--state-dir', path.join(dir, 'state'), '--http', 'off'], { cwd: dir });
    await daemon.waitForLog((l) => l.msg === 'exposed as a HERO', 'exposed as a HERO');
    const result = await probe(tb.endpoint, name);
    expect(result.alive).toEqual([`@object/heros/${name}/_health`]);
    const [actorId] = Object.keys(result.status);
    expect(result.status[actorId!]).toMatchObject({ status: 'running', config: { classname: 'herostools.actor.JsonArchiver' } });
  });
});
