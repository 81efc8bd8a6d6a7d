/**
 * The daemon's HTTP endpoint, for Prometheus and for probes. Loopback by default: it has no
 * authentication, and the status it reports (actor names, fault messages with paths) is for
 * the operator, not the network.
 *
 *   GET /metrics  Prometheus text (the registry of {@link ArchiverMetrics})
 *   GET /health   liveness: 200 {"status":"ok"} whenever the event loop answers
 *   GET /ready    readiness: 200 when ready, else 503; the {@link ReadinessReport} as JSON
 *   other paths 404, other methods 405 (HEAD too: probes that use it get a clear answer)
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatQuery, queryArrow, type QueryFormat } from './arrow-query.js';
import { ArchiverError } from './errors.js';
import type { Logger } from './log.js';
import type { ReadinessReport } from './readiness.js';

/** Default address: loopback, the port conventionally used by Prometheus exporters of OpenTelemetry. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
/** Default port. */
export const DEFAULT_HTTP_PORT = 9464;

/** Where to listen. */
export interface HttpAddress {
  host: string;
  port: number;
}

/** Settings of {@link startHttpServer}. */
export interface HttpServerOptions extends Partial<HttpAddress> {
  /** What `/metrics` serves; without it `/metrics` is 404. */
  metrics?: { readonly contentType: string; metrics(): Promise<string> };
  /** Computes `/ready` at each request. */
  readiness: () => ReadinessReport;
  /** Where listen failures and handler errors are logged. @default none */
  logger?: Pick<Logger, 'error' | 'info'>;
  /**
   * The archive folder of an ArrowArchiver actor (undefined for other ids); enables
   * `GET /api/actors/<id>/sources` and `/api/actors/<id>/sources/<source>/events`.
   */
  arrowQuery?: (actorId: string) => string | undefined;
}

/** A listening server. */
export interface HttpServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: HttpAddress;
  /** `http://host:port`, with IPv6 hosts in brackets. */
  readonly url: string;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Parses the `--http` option: `host:port`, `[v6]:port`, a bare port (on 127.0.0.1), or `off`
 * (returns undefined). Undefined input gives the default `127.0.0.1:9464`.
 * @throws ArchiverError `ARCHIVER_USAGE` for anything else
 */
export function parseHttpOption(value: string | undefined): HttpAddress | undefined {
  if (value === undefined) return { host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT };
  if (value === 'off') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ArchiverError('ARCHIVER_USAGE', `--http: expected host:port, a port number or "off", got "${value}"`, { retryable: false });
  }
  return { host: m[1] || m[2] || DEFAULT_HTTP_HOST, port };
}

/**
 * Starts listening; resolves once bound.
 * @throws ArchiverError `ARCHIVER_USAGE` when the address cannot be bound (in use, not local)
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const port = options.port ?? DEFAULT_HTTP_PORT;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      options.logger?.error({ err, path: req.url }, 'HTTP handler failed');
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ status: 'error', message: (err as Error)?.message ?? String(err) }));
      else res.destroy();
    });
  });
  // A scraper holding a keep-alive connection must not delay the daemon's exit.
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ArchiverError('ARCHIVER_USAGE', `--http ${formatHostPort(host, port)}: cannot listen (${err.code ?? err.message}); choose another address with --http host:port, or --http off`, {
          cause: err,
          retryable: false,
        }),
      );
    };
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // After listening, an error (e.g. EMFILE on accept) is logged; the daemon keeps archiving.
  server.on('error', (err) => options.logger?.error({ err }, 'HTTP server error'));

  const bound = server.address() as AddressInfo;
  const address: HttpAddress = { host: bound.address, port: bound.port };
  const url = `http://${formatHostPort(address.host, address.port)}`;
  options.logger?.info({ url }, 'HTTP endpoint listening (/metrics, /health, /ready)');

  let closing: Promise<void> | undefined;
  return {
    address,
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const api = options.arrowQuery === undefined ? undefined : API_PATH.exec(path ?? '');
  const known = api ? true : path === '/metrics' ? options.metrics !== undefined : path === '/health' || path === '/ready';
  if (!known) {
    const paths = ['/metrics', '/health', '/ready', ...(options.arrowQuery ? ['/api/actors/<id>/sources', '/api/actors/<id>/sources/<source>/events'] : [])];
    send(res, 404, 'application/json', JSON.stringify({ status: 'not found', paths }));
    return;
  }
  if (req.method !== 'GET') {
    res.setHeader('Allow', 'GET');
    send(res, 405, 'application/json', JSON.stringify({ status: 'method not allowed', allow: ['GET'] }));
    return;
  }
  if (path === '/health') {
    send(res, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    return;
  }
  if (api) {
    await serveArchive(req, res, options, decodeURIComponent(api[1]!), api[2] === undefined ? undefined : decodeURIComponent(api[2]));
    return;
  }
  if (path === '/ready') {
    const report = options.readiness();
    send(res, report.ready ? 200 : 503, 'application/json', `${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const metrics = options.metrics;
  if (metrics) send(res, 200, metrics.contentType, await metrics.metrics());
}

/** `/api/actors/<id>/sources` and `/api/actors/<id>/sources/<source>/events` (seed 001's API). */
const API_PATH = /^\/api\/actors\/([^/]+)\/sources(?:\/([^/]+)\/events)?$/;
const QUERY_TYPES = { json: 'application/x-ndjson', csv: 'text/csv; charset=utf-8', arrow: 'application/vnd.apache.arrow.stream' } as const;

/**
 * Streams archived rows of an ArrowArchiver actor: the distinct sources, or one source's rows in
 * `[start_time, end_time)` (ISO-8601 or ms since the epoch; `time_column` picks a payload column
 * instead of the receive time; `format` json lines, csv or arrow). Rows are streamed, never
 * loaded whole; an error after the headers cuts the connection rather than sending a short 200.
 */
async function serveArchive(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions, actorId: string, source: string | undefined): Promise<void> {
  const dir = options.arrowQuery!(actorId);
  if (dir === undefined) {
    send(res, 404, 'application/json', JSON.stringify({ status: 'not found', message: `no ArrowArchiver actor "${actorId}"` }));
    return;
  }
  const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const time = (v: string | null): number | string | undefined => (v === null || v === '' ? undefined : /^\d+$/.test(v) ? Number(v) : v);
  for (const k of ['start_time', 'end_time']) {
    const v = time(q.get(k));
    if (typeof v === 'string' && Number.isNaN(Date.parse(v))) {
      send(res, 400, 'application/json', JSON.stringify({ status: 'bad request', message: `${k}: expected ISO-8601 or ms since the epoch, got "${v}"` }));
      return;
    }
  }
  if (source === undefined) {
    const sources = new Set<string>();
    for await (const batch of queryArrow({ dir })) {
      for (const s of batch.getChild('source') ?? []) if (typeof s === 'string') sources.add(s);
    }
    send(res, 200, 'application/json', `${JSON.stringify({ actor: actorId, sources: [...sources].sort() })}\n`);
    return;
  }
  const format = (q.get('format') ?? 'json') as QueryFormat;
  const type = (QUERY_TYPES as Record<string, string>)[format];
  if (type === undefined) {
    send(res, 400, 'application/json', JSON.stringify({ status: 'bad request', message: 'format must be json, csv or arrow' }));
    return;
  }
  const batches = queryArrow({ dir, source, start: time(q.get('start_time')), end: time(q.get('end_time')), timeColumn: q.get('time_column') ?? undefined });
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  try {
    for await (const chunk of formatQuery(batches, format)) if (!res.write(chunk)) await once(res, 'drain');
    res.end();
  } catch (err) {
    options.logger?.error({ err, actor: actorId }, 'archive query failed');
    res.destroy(err as Error);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType.includes('charset') ? contentType : `${contentType}; charset=utf-8`, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What {@link fetchReadiness} found. */
export type FetchReadinessResult = { ok: true; url: string; report: ReadinessReport } | { ok: false; url: string; message: string };

/**
 * Fetches `/ready` of a running daemon, for `heros-archiver status`. A daemon that answers
 * 200 or 503 gives its report; one that does not answer (not running, `--http off`, another
 * address) gives a message naming the address. Never rejects.
 */
export async function fetchReadiness(address: HttpAddress, timeoutMs = 5_000): Promise<FetchReadinessResult> {
  const url = `http://${formatHostPort(address.host, address.port)}/ready`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200 && res.status !== 503) return { ok: false, url, message: `${url} answered HTTP ${res.status}; is it a heros-archiver?` };
    const body = (await res.json()) as ReadinessReport;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.actors)) return { ok: false, url, message: `${url} did not answer with a readiness report` };
    return { ok: true, url, report: body };
  } catch (err) {
    return { ok: false, url, message: `no heros-archiver answers at ${url} (${describeFetchError(err)})` };
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
