/**
 * Where manifests come from, as BOSS's `python -m boss.starter` takes them: files and folders,
 * `-u/--url` (`file://…`, a plain path, or `http(s)://user:pw@host/…` fetched with Basic auth
 * from the URL's credentials) and `-e/--env` (a variable holding the JSON; `BOSS` is always
 * read when set). Every source becomes a {@link ManifestDocument} for `parseManifests`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArchiverError } from './errors.js';
import { readManifestFiles, type ManifestDocument } from './manifest.js';

/** One manifest source named on the command line. */
export type ManifestSource =
  | { readonly kind: 'path'; readonly value: string }
  | { readonly kind: 'url'; readonly value: string }
  | { readonly kind: 'env'; readonly value: string; readonly implicit?: boolean };

/** Reading settings, injectable for tests. */
export interface ReadSourcesOptions {
  /** Variables `-e` reads. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Budget for one HTTP fetch, ms. @default 30000 */
  fetchTimeoutMs?: number;
}

/** What was read: the documents, and the `-e` variables that were not set (BOSS skips them). */
export interface ReadSourcesResult {
  docs: ManifestDocument[];
  unsetEnv: string[];
}

/** The variable BOSS reads its configuration from when it is set. */
export const DEFAULT_BOSS_ENV = 'BOSS';

/**
 * The sources of a command line in BOSS's order: manifests given as arguments, then `-u` URLs,
 * then `BOSS` and the `-e` variables. With none of them (and `BOSS` unset) `fallback` is used.
 */
export function manifestSources(
  positionals: readonly string[],
  urls: readonly string[] = [],
  envVars: readonly string[] = [],
  fallback: readonly string[] = [],
  env: Readonly<Record<string, string | undefined>> = process.env,
): ManifestSource[] {
  const sources: ManifestSource[] = [
    ...positionals.map((value) => ({ kind: 'path' as const, value })),
    ...urls.map((value) => ({ kind: 'url' as const, value })),
  ];
  // BOSS's default list is ["BOSS"] with -e appended to it, and a variable that is not set
  // is skipped: the default source is there only when the operator's environment has it.
  const vars = [...new Set([DEFAULT_BOSS_ENV, ...envVars])];
  for (const name of vars) {
    if (name === DEFAULT_BOSS_ENV && !envVars.includes(name)) {
      if (env[name] !== undefined) sources.push({ kind: 'env', value: name, implicit: true });
    } else {
      sources.push({ kind: 'env', value: name });
    }
  }
  if (sources.length === 0) sources.push(...fallback.map((value) => ({ kind: 'path' as const, value })));
  return sources;
}

/**
 * Reads every source. Unreadable files, failed fetches and unsupported URL schemes throw
 * `ARCHIVER_MANIFEST_UNREADABLE`; an `-e` variable that is not set is skipped, as BOSS does, and
 * listed in `unsetEnv` so that the caller can warn.
 */
export async function readManifestSources(sources: readonly ManifestSource[], options: ReadSourcesOptions = {}): Promise<ReadSourcesResult> {
  const env = options.env ?? process.env;
  const docs: ManifestDocument[] = [];
  const unsetEnv: string[] = [];
  for (const source of sources) {
    if (source.kind === 'path') docs.push(...(await readManifestFiles([source.value])));
    else if (source.kind === 'url') docs.push(...(await readUrl(source.value, options.fetchTimeoutMs ?? 30_000)));
    else {
      const text = env[source.value];
      if (text === undefined) unsetEnv.push(source.value);
      else docs.push({ source: `env:${source.value}`, baseDir: process.cwd(), text });
    }
  }
  return { docs, unsetEnv };
}

async function readUrl(value: string, timeoutMs: number): Promise<ManifestDocument[]> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not a URL: BOSS users also pass plain paths to -u.
    return readManifestFiles([value]);
  }
  switch (url.protocol) {
    case 'file:':
      return readManifestFiles([filePath(url)]);
    case 'http:':
    case 'https:':
      return [await fetchDocument(url, timeoutMs)];
    default:
      // A one-letter "scheme" is a Windows drive; anything else we cannot read.
      if (/^[a-z]:$/i.test(url.protocol)) return readManifestFiles([value]);
      throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `cannot read manifest ${redact(url)}: only file://, http:// and https:// URLs and paths are supported`, {
        path: redact(url),
      });
  }
}

/**
 * `file:///etc/boss/a.json` is absolute. BOSS documents `file://local.json`, where the "host" is
 * really the first part of a relative path; that is read relative to the working directory.
 */
function filePath(url: URL): string {
  if (url.host === '' || url.host === 'localhost') return fileURLToPath(new URL(`file://${url.pathname}`));
  return path.join(decodeURIComponent(url.host), decodeURIComponent(url.pathname));
}

async function fetchDocument(url: URL, timeoutMs: number): Promise<ManifestDocument> {
  const shown = redact(url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (url.username !== '' || url.password !== '') {
    // fetch() refuses URLs with credentials; BOSS sends them as Basic auth, and so do we.
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  }
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  let res: Response;
  let text: string;
  try {
    res = await fetch(bare, { headers, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (cause) {
    const reason = (cause as Error)?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : describeFetchError(cause);
    throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `cannot fetch manifest ${shown}: ${reason}`, { path: shown, cause });
  }
  if (!res.ok) {
    throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `cannot fetch manifest ${shown}: HTTP ${res.status} ${res.statusText}`.trimEnd(), { path: shown });
  }
  return { source: shown, baseDir: process.cwd(), text };
}

function describeFetchError(cause: unknown): string {
  const err = cause as Error & { cause?: Error & { code?: string } };
  return err?.cause?.code ? `${err.cause.code} ${err.cause.message}` : (err?.message ?? String(cause));
}

/** The URL as messages and logs show it: never the password. */
export function redact(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url);
  copy.password = '***';
  return copy.href;
}
