import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BusMonitor } from '../src/bus/bus-monitor.js';
import { startHttpServer, type HttpServer } from '../src/http.js';
import { createMetrics } from '../src/metrics.js';
import { evaluateReadiness } from '../src/readiness.js';
import { startBoss, tempDir, until } from './helpers/harness.js';

/** The value of one sample line `name{labels} value` of a Prometheus text exposition. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean).sort();
    if (have.length === want.length && have.every((l, i) => l === want[i])) return Number(m[3]);
  }
  return undefined;
}

function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
}

describe('GET /metrics', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('serves per-actor counters, gauges, bus metrics and process metrics with real values', async () => {
    const t = await tempDir();
    const out = path.join(t.dir, 'out');
    const { boss, bus, publish } = await startBoss(
      [
        { _id: 'readings', classname: 'JsonArchiver', arguments: { object_selector: 'sensor', event_name: 'reading', save_template: `${out}/{{ n }}.json` } },
        { _id: 'idle', classname: 'JsonArchiver', arguments: { object_selector: 'nobody', event_name: 'reading', save_template: `${out}/idle-{{ n }}.json` } },
      ],
      { baseDir: t.dir },
    );
    const monitor = new BusMonitor(bus);
    let receive = { paused: false, pausedSeconds: 0 };
    const metrics = createMetrics({ actors: () => boss.status(), bus: () => monitor.status(), receive: () => receive });
    let server: HttpServer | undefined;
    cleanup = async () => {
      await server?.close();
      monitor.close();
      await boss.stop();
      await t.cleanup();
    };
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => evaluateReadiness({ phase: 'running', actors: boss.status(), bus: monitor.status() }) });
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);

    for (let n = 0; n < 3; n++) await publish('sensor', 'reading', [{ n }, { n }]);
    await publish('sensor', 'reading', 'not a [payload, metadata] pair'); // dead-lettered
    await until(() => boss.status()[0]?.stats?.stored === 3 && boss.status()[0]?.stats?.deadLettered === 1, 10_000, 'stored and dead-lettered');
    expect((await readdir(out)).sort()).toEqual(['0.json', '1.json', '2.json']);

    // The archivers' hooks, called here with known values (this Boss reports to no metrics).
    metrics.recordWrite('readings', 4096);
    metrics.recordWrite('readings', 100);
    metrics.observeStore('readings', 0.003);
    metrics.observeStore('readings', 0.2);
    metrics.observeEventLatency('readings', 0.0042);
    metrics.observeEventLatency('readings', 1.5);
    metrics.setSpoolBytes('readings', 512);
    // A lost bridge connection, 1.5 s long.
    bus.emit({ type: 'disconnected', reason: 'test' });
    bus.emit({ type: 'reconnected', gapMs: 1500 });

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const text = await res.text();
    const r = { actor: 'readings' };
    expect(sample(text, 'heros_archiver_events_received_total', r)).toBe(4);
    expect(sample(text, 'heros_archiver_events_stored_total', r)).toBe(3);
    expect(sample(text, 'heros_archiver_store_retries_total', r)).toBe(0);
    expect(sample(text, 'heros_archiver_events_dead_lettered_total', r)).toBe(1);
    expect(sample(text, 'heros_archiver_storage_faults_total', r)).toBe(0);
    expect(sample(text, 'heros_archiver_events_pending', r)).toBe(0);
    // An archiver with a disk spool reports its own spool bytes; setSpoolBytes serves the others.
    const own = (boss.status()[0]?.stats as { spoolBytes?: number } | undefined)?.spoolBytes;
    expect(sample(text, 'heros_archiver_spool_bytes', r)).toBe(own ?? 512);
    expect(sample(text, 'heros_archiver_spool_bytes', { actor: 'idle' })).toBe(0);
    if (own !== undefined) {
      expect(sample(text, 'heros_archiver_events_refused_total', r)).toBe(0);
      expect(sample(text, 'heros_archiver_events_spooled', r)).toBe(0);
    }
    expect(sample(text, 'heros_archiver_events_received_total', { actor: 'idle' })).toBe(0);
    expect(sample(text, 'heros_archiver_written_bytes_total', r)).toBe(4196);
    expect(sample(text, 'heros_archiver_store_duration_seconds_count', r)).toBe(2);
    expect(sample(text, 'heros_archiver_store_duration_seconds_sum', r)).toBeCloseTo(0.203, 6);
    expect(sample(text, 'heros_archiver_store_duration_seconds_bucket', { ...r, le: '0.005' })).toBe(1);
    expect(sample(text, 'heros_archiver_store_duration_seconds_bucket', { ...r, le: '+Inf' })).toBe(2);
    expect(sample(text, 'heros_archiver_event_latency_seconds_count', r)).toBe(2);
    expect(sample(text, 'heros_archiver_event_latency_seconds_sum', r)).toBeCloseTo(1.5042, 6);
    expect(sample(text, 'heros_archiver_event_latency_seconds_bucket', { ...r, le: '0.003' })).toBe(0);
    expect(sample(text, 'heros_archiver_event_latency_seconds_bucket', { ...r, le: '0.005' })).toBe(1);
    expect(sample(text, 'heros_archiver_event_latency_seconds_bucket', { ...r, le: '2.5' })).toBe(2);
    expect(sample(text, 'heros_archiver_actor_state', { ...r, state: 'running' })).toBe(1);
    expect(sample(text, 'heros_archiver_actor_state', { ...r, state: 'failed' })).toBe(0);
    expect(sample(text, 'heros_archiver_actor_healthy', r)).toBe(1);
    expect(sample(text, 'heros_archiver_bus_connected')).toBe(1);
    expect(sample(text, 'heros_archiver_bus_reconnects_total')).toBe(1);
    expect(sample(text, 'heros_archiver_bus_gap_seconds_total')).toBe(1.5);
    expect(sample(text, 'heros_archiver_receive_paused')).toBe(0);
    expect(sample(text, 'heros_archiver_receive_paused_seconds_total')).toBe(0);

    expect(typeOf(text, 'heros_archiver_events_stored_total')).toBe('counter');
    expect(typeOf(text, 'heros_archiver_events_pending')).toBe('gauge');
    expect(typeOf(text, 'heros_archiver_store_duration_seconds')).toBe('histogram');
    expect(typeOf(text, 'heros_archiver_event_latency_seconds')).toBe('histogram');
    expect(typeOf(text, 'heros_archiver_bus_gap_seconds_total')).toBe('counter');
    // prom-client's process metrics, on our registry.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(typeOf(text, 'nodejs_eventloop_lag_seconds')).toBe('gauge');

    // Values move with the daemon: counters read at scrape time.
    await publish('sensor', 'reading', [{ n: 3 }, { n: 3 }]);
    await until(() => boss.status()[0]?.stats?.stored === 4, 10_000, 'fourth event stored');
    bus.emit({ type: 'disconnected', reason: 'test' });
    const again = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(again, 'heros_archiver_events_stored_total', r)).toBe(4);
    expect(sample(again, 'heros_archiver_bus_connected')).toBe(0);
    receive = { paused: true, pausedSeconds: 2.25 };
    const paused = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(paused, 'heros_archiver_receive_paused')).toBe(1);
    expect(sample(paused, 'heros_archiver_receive_paused_seconds_total')).toBe(2.25);

    await boss.stop();
    const stopped = await (await fetch(`${server.url}/metrics`)).text();
    expect(sample(stopped, 'heros_archiver_actor_state', { ...r, state: 'stopped' })).toBe(1);
    expect(sample(stopped, 'heros_archiver_actor_state', { ...r, state: 'running' })).toBe(0);
  });

  it('exports the receive spill file of the in-process session only when it is given', async () => {
    let spill = { bytes: 0, total: 0 };
    const withSpill = createMetrics({ actors: () => [], defaultMetrics: false, spill: () => spill });
    expect(sample(await withSpill.metrics(), 'heros_archiver_receive_spill_bytes')).toBe(0);
    spill = { bytes: 123_456, total: 42 };
    const text = await withSpill.metrics();
    expect(sample(text, 'heros_archiver_receive_spill_bytes')).toBe(123_456);
    expect(sample(text, 'heros_archiver_receive_spilled_total')).toBe(42);
    const without = await createMetrics({ actors: () => [], defaultMetrics: false }).metrics();
    expect(without).not.toContain('heros_archiver_receive_spill');
  });

  it('does not touch prom-client\'s global registry', async () => {
    const { register } = await import('prom-client');
    const before = (await register.getMetricsAsJSON()).map((m) => m.name);
    createMetrics({ actors: () => [] });
    const after = (await register.getMetricsAsJSON()).map((m) => m.name);
    expect(after).toEqual(before);
  });

  it('recordWrite, observeStore and observeEventLatency ignore values that are not numbers of bytes or seconds', async () => {
    const metrics = createMetrics({ actors: () => [], defaultMetrics: false });
    metrics.recordWrite('a', Number.NaN);
    metrics.recordWrite('a', -1);
    metrics.observeStore('a', Number.POSITIVE_INFINITY);
    metrics.observeEventLatency('a', -0.001);
    metrics.observeEventLatency('a', Number.NaN);
    metrics.setSpoolBytes('a', -5);
    const text = await metrics.metrics();
    expect(sample(text, 'heros_archiver_written_bytes_total', { actor: 'a' })).toBeUndefined();
    expect(sample(text, 'heros_archiver_store_duration_seconds_count', { actor: 'a' })).toBeUndefined();
    expect(sample(text, 'heros_archiver_event_latency_seconds_count', { actor: 'a' })).toBeUndefined();
    expect(text).not.toMatch(/^process_/m);
  });
});

describe('HTTP routing', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /health, 404 for unknown paths, 405 for other methods; close() is idempotent', async () => {
    const metrics = createMetrics({ actors: () => [], defaultMetrics: false });
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => evaluateReadiness({ phase: 'running', actors: [], bus: undefined }) });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${server.url}/health?probe=1`)).status).toBe(200);

    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    for (const p of ['/metrics', '/health', '/ready']) {
      const res = await fetch(`${server.url}${p}`, { method: 'POST', body: 'x' });
      expect(res.status, p).toBe(405);
      expect(res.headers.get('allow')).toBe('GET');
    }
    expect((await fetch(`${server.url}/ready`, { method: 'DELETE' })).status).toBe(405);

    // A keep-alive connection does not hold close() up.
    await fetch(`${server.url}/health`, { headers: { connection: 'keep-alive' } });
    const url = server.url;
    await Promise.all([server.close(), server.close()]);
    await server.close();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('without metrics, /metrics is 404', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => evaluateReadiness({ phase: 'running' }) });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it('a port in use is a coded error naming the address', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => evaluateReadiness({ phase: 'running' }) });
    await expect(startHttpServer({ host: '127.0.0.1', port: server.address.port, readiness: () => evaluateReadiness({ phase: 'running' }) })).rejects.toMatchObject({
      code: 'ARCHIVER_USAGE',
      message: expect.stringContaining(`--http 127.0.0.1:${server.address.port}: cannot listen (EADDRINUSE)`),
    });
  });
});
