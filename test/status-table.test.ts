import { afterEach, describe, expect, it } from 'vitest';
import { fetchReadiness, startHttpServer, type HttpServer } from '../src/http.js';
import { evaluateReadiness, type ReadinessReport } from '../src/readiness.js';
import { renderStatusTable } from '../src/status-table.js';

const report: ReadinessReport = evaluateReadiness({
  phase: 'running',
  bus: { state: 'connected', connected: true, reconnects: 2, gapSeconds: 3.42 },
  actors: [
    {
      id: 'camera-frames',
      classname: 'herostools.actor.ArrayArchiver',
      state: 'running',
      stats: { received: 15200, stored: 15180, retried: 3, deadLettered: 0, storageFaults: 7, pending: 20 },
      health: { healthy: false, fault: { errno: 'ENOSPC', message: 'no space left on device', since: '2025-03-01T10:00:00.000Z' } },
    },
    {
      id: 'temps',
      classname: 'JsonArchiver',
      state: 'running',
      stats: { received: 7, stored: 7, retried: 0, deadLettered: 0, storageFaults: 0, pending: 0 },
      health: { healthy: true },
    },
    {
      id: 'plugin',
      classname: './my-archiver.js#Mine',
      state: 'restarting',
      error: { code: 'ARCHIVER_ACTOR_START_FAILED', message: 'actor "plugin" failed to start: share not mounted' },
    },
  ],
});

describe('renderStatusTable', () => {
  it('renders a /ready report as an aligned table, with reasons, bus and errors', () => {
    expect(renderStatusTable(report)).toBe(
      [
        'ready: no — actor "camera-frames" is unhealthy (ENOSPC since 2025-03-01T10:00:00.000Z); actor "plugin" is restarting (ARCHIVER_ACTOR_START_FAILED)',
        'bus: connected, 2 reconnects, 3.4 s disconnected in total',
        '',
        'ACTOR          CLASS                           STATE       RECEIVED  STORED  RETRIED  DEAD-LETTERED  PENDING  HEALTH',
        'camera-frames  herostools.actor.ArrayArchiver  running        15200   15180        3              0       20  fault ENOSPC since 2025-03-01T10:00:00.000Z',
        'temps          JsonArchiver                    running            7       7        0              0        0  ok',
        'plugin         ./my-archiver.js#Mine           restarting         -       -        -              -        -  -',
        '',
        'errors:',
        '  plugin: actor "plugin" failed to start: share not mounted [ARCHIVER_ACTOR_START_FAILED]',
        '',
      ].join('\n'),
    );
  });

  it('says so when ready, and when there are no actors', () => {
    const ready = evaluateReadiness({ phase: 'running', bus: { state: 'connected', connected: true, reconnects: 0, gapSeconds: 0 }, actors: [] });
    expect(renderStatusTable(ready)).toBe('ready: yes\nbus: connected, 0 reconnects\n\nno actors\n');
  });

  it('prints what it can of a report it does not fully understand, without throwing', () => {
    expect(renderStatusTable(null)).toBe('ready: no\nbus: not open\n\nno actors\n');
    const odd = renderStatusTable({ ready: true, bus: { state: 'reconnecting', downSince: '2025-03-01T10:00:00.000Z' }, actors: [{ id: 'a\u001b[31mb', stats: { received: 'many' } }, 42] });
    expect(odd).toContain('bus: reconnecting since 2025-03-01T10:00:00.000Z');
    expect(odd).toContain('a?[31mb');
    expect(odd).not.toContain('\u001b');
    expect(odd.split('\n')[4]).toMatch(/^a\?\[31mb\s+-\s+-\s+-\s+-/);
    expect(odd.split('\n')[5]).toMatch(/^-\s+-\s+-/);
  });
});

describe('fetchReadiness', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('returns the report of a daemon that is not ready (503) as of one that is', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => report });
    const got = await fetchReadiness(server.address);
    expect(got).toEqual({ ok: true, url: `${server.url}/ready`, report });
    if (got.ok) expect(renderStatusTable(got.report)).toBe(renderStatusTable(report));
  });

  it('names the address when nothing answers', async () => {
    server = await startHttpServer({ host: '127.0.0.1', port: 0, readiness: () => report });
    const { port } = server.address;
    await server.close();
    server = undefined;
    const got = await fetchReadiness({ host: '127.0.0.1', port }, 2_000);
    expect(got).toEqual({ ok: false, url: `http://127.0.0.1:${port}/ready`, message: `no heros-archiver answers at http://127.0.0.1:${port}/ready (ECONNREFUSED)` });
  });
});
