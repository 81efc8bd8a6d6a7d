import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BusMonitor } from '../src/bus/bus-monitor.js';
import { startHttpServer, type HttpServer } from '../src/http.js';
import { evaluateReadiness, summarizeReadiness, type DaemonPhase, type ReadinessReport } from '../src/readiness.js';
import { ScriptedArchiver } from './fixtures/scripted-archiver.js';
import { startBoss, tempDir, until } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';
import { scriptedEntry } from './helpers/scripted.js';

const flaky = `${path.join(repoRoot, 'test/fixtures/flaky-start-actor.ts')}#FlakyStartActor`;

async function getReady(server: HttpServer): Promise<{ status: number; body: ReadinessReport }> {
  const res = await fetch(`${server.url}/ready`);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, body: (await res.json()) as ReadinessReport };
}

describe('GET /ready', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('is 200 while every actor runs healthy and the bus is connected, 503 on a storage fault or a lost bus', async () => {
    const t = await tempDir();
    let readOnly = false;
    ScriptedArchiver.scripts.set('frames', () => {
      if (readOnly) throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
    });
    const { boss, bus, publish } = await startBoss(scriptedEntry('frames'), { baseDir: t.dir });
    const monitor = new BusMonitor(bus);
    let phase: DaemonPhase = 'running';
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => evaluateReadiness({ phase, actors: boss.status(), bus: monitor.status() }) });
    cleanup = async () => {
      readOnly = false;
      await server.close();
      monitor.close();
      await boss.stop();
      ScriptedArchiver.scripts.delete('frames');
      await t.cleanup();
    };

    await publish('cam', 'frame', [1, {}]);
    await until(() => boss.status()[0]?.stats?.stored === 1, 10_000, 'first event stored');
    const ok = await getReady(server);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      ready: true,
      status: 'ready',
      phase: 'running',
      reasons: [],
      bus: { state: 'connected', connected: true, reconnects: 0, gapSeconds: 0 },
      actors: [{ id: 'frames', state: 'running', stats: { received: 1, stored: 1, retried: 0, deadLettered: 0, storageFaults: 0, pending: 0 }, health: { healthy: true } }],
    });
    expect(summarizeReadiness(ok.body)).toBe('ready: 1/1 actors running, bus connected, 1 stored, 0 dead-lettered, 0 pending');

    // The disk turns read-only: the actor keeps the event and reports itself unhealthy.
    readOnly = true;
    await publish('cam', 'frame', [2, {}]);
    await until(() => boss.status()[0]?.health?.healthy === false, 10_000, 'unhealthy');
    const faulty = await getReady(server);
    expect(faulty.status).toBe(503);
    expect(faulty.body.ready).toBe(false);
    expect(faulty.body.status).toBe('not ready');
    expect(faulty.body.actors[0]).toMatchObject({ state: 'running', health: { healthy: false, fault: { errno: 'EROFS' } }, stats: { pending: 1 } });
    expect(faulty.body.reasons).toEqual([expect.stringMatching(/^actor "frames" is unhealthy \(EROFS since .+\)$/)]);

    readOnly = false;
    await until(() => boss.status()[0]?.stats?.stored === 2, 20_000, 'stored after the fault cleared');
    expect((await getReady(server)).status).toBe(200);

    // The bridge goes away.
    bus.emit({ type: 'disconnected', reason: 'bridge gone' });
    const lost = await getReady(server);
    expect(lost.status).toBe(503);
    expect(lost.body.bus).toMatchObject({ state: 'disconnected', connected: false });
    expect(lost.body.bus?.downSince).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(lost.body.reasons).toEqual(['the bus is disconnected']);
    bus.emit({ type: 'reconnected', gapMs: 250 });
    const back = await getReady(server);
    expect(back.status).toBe(200);
    expect(back.body.bus).toEqual({ state: 'connected', connected: true, reconnects: 1, gapSeconds: 0.25 });

    // Shutting down is not ready, before any actor has stopped.
    phase = 'stopping';
    expect((await getReady(server)).body.reasons).toEqual(['the daemon is stopping']);
  });

  it('is 503 while an actor is restarting after a failed start, and after it failed for good', async () => {
    const t = await tempDir();
    const { boss, bus } = await startBoss(
      [
        { _id: 'steady', classname: flaky, arguments: { object_selector: 'cam', event_name: 'frame' } },
        { _id: 'broken', classname: flaky, arguments: { object_selector: 'cam', event_name: 'frame', fail_starts: 1_000_000 } },
      ],
      { baseDir: t.dir },
    );
    const monitor = new BusMonitor(bus);
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => evaluateReadiness({ phase: 'running', actors: boss.status(), bus: monitor.status() }) });
    cleanup = async () => {
      await server.close();
      monitor.close();
      await boss.stop();
      await t.cleanup();
    };
    const restarting = await getReady(server);
    expect(restarting.status).toBe(503);
    expect(restarting.body.actors.map((a) => [a.id, a.state])).toEqual([
      ['steady', 'running'],
      ['broken', 'restarting'],
    ]);
    expect(restarting.body.actors[1]?.error).toMatchObject({ code: 'ARCHIVER_ACTOR_START_FAILED', message: expect.stringContaining('share not mounted') });
    expect(restarting.body.reasons).toEqual(['actor "broken" is restarting (ARCHIVER_ACTOR_START_FAILED)']);

    await boss.stop();
    const failed = await getReady(server);
    expect(failed.status).toBe(503);
    expect(failed.body.actors.map((a) => a.state)).toEqual(['stopped', 'failed']);
  });

  it('is 503 before the actors and the bus exist', async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => evaluateReadiness({ phase: 'starting' }) });
    cleanup = () => server.close();
    const { status, body } = await getReady(server);
    expect(status).toBe(503);
    expect(body).toEqual({ ready: false, status: 'not ready', phase: 'starting', reasons: ['the daemon is starting', 'the bus is not open yet'], bus: null, actors: [] });
  });
});
