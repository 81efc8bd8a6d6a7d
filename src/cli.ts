/**
 * The `heros-archiver` command. Process concerns live here and only here: arguments, signals,
 * exit codes, reading files named on the command line. Everything else is in `Boss`.
 *
 * Exit codes (sysexits.h): 0 ok, 1 `status`: the daemon is not ready, 64 usage error, 65 bad
 * input data (a template that fails on the given metadata, dead letters that failed again),
 * 69 a required service is unavailable (the bridge, a daemon to talk to), 70 internal error,
 * 78 invalid configuration (systemd's RestartPreventExitStatus=78 keeps a broken manifest from
 * restarting in a loop).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { once } from 'node:events';
import { ArrowArchiver } from '../actors/arrow-archiver.js';
import { arrowArchiveDir, formatQuery, queryArrow, type QueryFormat } from './arrow-query.js';
import { resolveArchivePath } from './storage/archive-path.js';
import { Boss, prepareActors, type PreparedActor } from './boss.js';
import { exposeBoss, uniqueInstanceName } from './boss-hero.js';
import { heroNameProblem } from './heros/hero-server.js';
import type { Bus } from './bus/bus.js';
import type { NativeZenohBusOptions } from './bus/native.js';
import { DeadLetterStore } from './dead-letter.js';
import { replayDeadLetters } from './dead-letter-replay.js';
import { setSpareFiles, setWriteThreads } from './storage/write-workers.js';
import { ArchiverError, ConfigError } from './errors.js';
import { parseJsonKeepingPythonNumbers } from './formats/json-input.js';
import { createLogger, type Logger } from './log.js';
import { parseManifests } from './manifest.js';
import { manifestSources, readManifestSources, type ManifestSource } from './manifest-sources.js';
import { compileTemplate } from './template.js';
import { BusMonitor } from './bus/bus-monitor.js';
import { fetchReadiness, parseHttpOption, startHttpServer } from './http.js';
import { createLivenessCheck, type LivenessCheck } from './liveness.js';
import { createMetrics } from './metrics.js';
import { evaluateReadiness, summarizeReadiness, type DaemonPhase, type ReadinessReport } from './readiness.js';
import { renderStatusTable } from './status-table.js';
import { createNotifier, startWatchdog, type WatchdogLoop } from './systemd.js';

/** Exit codes. */
export const EXIT = { OK: 0, NOT_READY: 1, USAGE: 64, DATA: 65, UNAVAILABLE: 69, SOFTWARE: 70, CONFIG: 78 } as const;

const USAGE = `Usage: heros-archiver <command> [options]

Commands:
  run [manifest...]        Run the actors of BOSS manifests (files or folders, -u URLs, -e
                           variables; default boss.json)
  validate [manifest...]   Check manifests (and -u/-e sources) without running them; exit 78
                           listing every problem
  reload [--state-dir dir] Make the running daemon re-read its manifests (SIGHUP to the pid in
                           <state-dir>/heros-archiver.pid)
  render --template T --metadata JSON
                           Print the file name a save_template gives for some metadata
  status [--http host:port] [--json]
                           Show a running daemon's actors and counters (from its /ready);
                           exit 0 ready, 1 not ready, 69 no daemon answers
  query --actor ID [-m manifest…] [--source S] [--start T] [--end T] [--format json|csv|arrow]
                           Read rows an ArrowArchiver wrote (or --dir <folder>)
  dead-letter list [actor] List dead-lettered events
  dead-letter retry <actor> [-m manifest…]
                           Re-play an actor's dead-lettered events (after fixing the cause)
  help                     This text
  version                  Print the version

Options of run (BOSS's -u, -e, --realm, --name, --no-autostart and --log work as there):
  -u, --url <url>          Manifest from file:///path, a path or http(s)://user:pw@host/…
                           (Basic auth from the URL) (repeatable)
  -e, --env <VAR>          Manifest JSON from an environment variable (repeatable); BOSS is
                           always read when set
  --name <name>            This daemon's name in logs and /ready
  --no-autostart           Prepare and check the actors but do not start them
  --log <LEVEL>            BOSS spelling of --log-level: DEBUG, INFO, WARNING, ERROR, …
  --log-format <json|pretty>
                           Log lines as JSON or for a person (default pretty on a terminal,
                           json otherwise)
  --bus <native|bridge|memory>
                           How to reach Zenoh: an in-process Zenoh session (native, the
                           default; built by scripts/setup-native.sh), zenoh-ts through a
                           zenoh-bridge-remote-api (bridge, the default with --zenoh or
                           --bridge-ws), or no Zenoh at all (memory)
  --zenoh <locator>        Use an operator-run bridge (e.g. ws/127.0.0.1:10000) instead of
                           starting one
  --bridge-listen <ep>     Zenoh endpoint to listen on (repeatable); the in-process
                           session's, or the managed bridge's with --bus bridge, like every
                           --bridge-* Zenoh setting
  --bridge-connect <ep>    Zenoh endpoint to connect to (repeatable)
  --bridge-config <file>   Zenoh JSON5 configuration file
  --no-multicast-scouting  Do not scout for peers by UDP multicast
  --bridge-ws <host:port>  Managed bridge WebSocket address (default 127.0.0.1, free port)
  --bridge-cfg <KEY:VALUE> Extra Zenoh setting, VALUE in JSON5 (repeatable)
  --max-message-bytes <n>  Largest event accepted (default 1 GiB + 1 MiB through the bridge,
                           Zenoh's 1 GiB with --bus native)
  --receive-buffer-bytes <n>
                           In-process session: bytes of received events the daemon may hold
                           in memory until they are stored (default 32 MiB); the rest waits
                           in a spill file in <state-dir>/receive-spill
  --receive-buffer-events <n>
                           The same, in events (default 2048)
  --realm <name>           HEROS realm (default heros)
  --root <dir>             Folder every archived file must be inside (default /)
  --state-dir <dir>        State folder (default $STATE_DIRECTORY or ./.heros-archiver)
  --dead-letter-dir <dir>  Dead-letter folder (default <state-dir>/dead-letter)
  --drain-timeout <ms>     Time to store queued events on stop (default 30000)
  --write-threads <n>      Threads writing small archive files (default 2)
  --spare-files <n>        Empty files kept ready per busy folder and thread (default 8; 0: none)
  --log-level <level>      fatal|error|warn|info|debug|trace (default info)
  --http <host:port|off>   HTTP endpoint for /metrics, /health, /ready (default 127.0.0.1:9464)
`;

const RUN_OPTIONS = {
  zenoh: { type: 'string' },
  'bridge-listen': { type: 'string', multiple: true },
  'bridge-connect': { type: 'string', multiple: true },
  'bridge-config': { type: 'string' },
  'no-multicast-scouting': { type: 'boolean' },
  'bridge-ws': { type: 'string' },
  'bridge-cfg': { type: 'string', multiple: true },
  'max-message-bytes': { type: 'string' },
  'receive-buffer-bytes': { type: 'string' },
  'receive-buffer-events': { type: 'string' },
  realm: { type: 'string' },
  root: { type: 'string' },
  'state-dir': { type: 'string' },
  'dead-letter-dir': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'write-threads': { type: 'string' },
  'spare-files': { type: 'string' },
  'log-level': { type: 'string' },
  http: { type: 'string' },
  bus: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  // BOSS's flags (python -m boss.starter), so that an existing command line keeps working.
  url: { type: 'string', short: 'u', multiple: true },
  env: { type: 'string', short: 'e', multiple: true },
  name: { type: 'string' },
  'no-autostart': { type: 'boolean' },
  log: { type: 'string' },
  expose: { type: 'boolean' },
  'log-format': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Where `run` writes its pid for `heros-archiver reload`. */
const PID_FILE = 'heros-archiver.pid';

/** The manifest sources `run` and `validate` take, as BOSS does. */
const SOURCE_OPTIONS = {
  url: { type: 'string', short: 'u', multiple: true },
  env: { type: 'string', short: 'e', multiple: true },
} as const satisfies ParseArgsConfig['options'];

/** Output streams, injectable for tests. */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: CliIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIO = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'validate':
        return await validateCommand(rest, io);
      case 'render':
        return renderCommand(rest, io);
      case 'query':
        return await queryCommand(rest, io);
      case 'dead-letter':
        return await deadLetterCommand(rest, io);
      case 'status':
        return await statusCommand(rest, io);
      case 'reload':
        return await reloadCommand(rest, io);
      case 'version':
      case '--version':
        io.out(`${version()}\n`);
        return EXIT.OK;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? EXIT.USAGE : EXIT.OK;
      default:
        io.err(`heros-archiver: unknown command "${command}" [ARCHIVER_USAGE]\n\n${USAGE}`);
        return EXIT.USAGE;
    }
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof ConfigError) {
    io.err(`heros-archiver: ${err.message}\n`);
    return EXIT.CONFIG;
  }
  if (err instanceof ArchiverError) {
    io.err(`heros-archiver: ${err.message} [${err.code}]\n`);
    if (err.code === 'ARCHIVER_USAGE') return EXIT.USAGE;
    if (err.code === 'ARCHIVER_BUS_FAILED') return EXIT.UNAVAILABLE;
    if (err.code === 'ARCHIVER_TEMPLATE_FAILED') return EXIT.DATA;
    if (['ARCHIVER_MANIFEST_UNREADABLE', 'ARCHIVER_MANIFEST_INVALID', 'ARCHIVER_TEMPLATE_INVALID', 'ARCHIVER_OPTIONS_INVALID'].includes(err.code)) return EXIT.CONFIG;
    return EXIT.SOFTWARE;
  }
  io.err(`heros-archiver: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.SOFTWARE;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (err) {
    throw new ArchiverError('ARCHIVER_USAGE', (err as Error).message);
  }
}

async function loadPrepared(sources: readonly (ManifestSource | string)[], onUnsetEnv: (names: string[]) => void = () => undefined) {
  const { docs, unsetEnv } = await readManifestSources(sources.map((s) => (typeof s === 'string' ? { kind: 'path', value: s } : s)));
  if (unsetEnv.length > 0) onUnsetEnv(unsetEnv);
  if (docs.length === 0) {
    throw new ArchiverError('ARCHIVER_MANIFEST_UNREADABLE', `no manifest to read: ${unsetEnv.map((n) => `$${n}`).join(', ')} ${unsetEnv.length === 1 ? 'is' : 'are'} not set`);
  }
  const entries = parseManifests(docs);
  return prepareActors(entries);
}

async function validateCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, { help: { type: 'boolean', short: 'h' }, ...SOURCE_OPTIONS });
  const sources = manifestSources(positionals, values.url, values.env);
  if (sources.length === 0) throw new ArchiverError('ARCHIVER_USAGE', 'validate needs at least one manifest file or folder, -u URL or -e VARIABLE');
  const prepared = await loadPrepared(sources, (names) => io.err(`heros-archiver: not set, skipped: ${names.map((n) => `$${n}`).join(', ')}\n`));
  io.out(`ok: ${prepared.length} actor${prepared.length === 1 ? '' : 's'} (${prepared.map((p) => `${p.entry.id}: ${p.entry.classname}`).join(', ')})\n`);
  return EXIT.OK;
}

function renderCommand(args: readonly string[], io: CliIO): number {
  const { values } = parse(args, { template: { type: 'string', short: 't' }, metadata: { type: 'string', short: 'm' } }, false);
  if (values.template === undefined) throw new ArchiverError('ARCHIVER_USAGE', 'render needs --template');
  let metadata: unknown = {};
  if (values.metadata !== undefined) {
    try {
      metadata = parseJsonKeepingPythonNumbers(values.metadata);
    } catch (err) {
      throw new ArchiverError('ARCHIVER_USAGE', `--metadata is not valid JSON: ${(err as Error).message}`);
    }
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new ArchiverError('ARCHIVER_USAGE', '--metadata must be a JSON object');
    }
  }
  const template = compileTemplate(values.template);
  io.out(`${template.render(metadata as Record<string, never>)}\n`);
  return EXIT.OK;
}

async function deadLetterCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, {
    'state-dir': { type: 'string' },
    'dead-letter-dir': { type: 'string' },
    manifest: { type: 'string', multiple: true, short: 'm' },
    root: { type: 'string' },
    realm: { type: 'string' },
    'log-level': { type: 'string' },
  });
  const [sub, actor] = positionals;
  const store = new DeadLetterStore(deadLetterDir(values));
  if (sub === 'retry') {
    if (!actor) throw new ArchiverError('ARCHIVER_USAGE', 'dead-letter retry needs an actor _id');
    const prepared = (await loadPrepared(values.manifest ?? ['boss.json'])).find((p) => p.entry.id === actor);
    if (!prepared) throw new ArchiverError('ARCHIVER_USAGE', `no actor "${actor}" in ${(values.manifest ?? ['boss.json']).join(', ')}`);
    const result = await replayDeadLetters(prepared, store, {
      root: path.resolve(values.root ?? '/'),
      baseDir: process.cwd(),
      realm: values.realm ?? 'heros',
      logger: createLogger({ level: (values['log-level'] ?? 'warn') as 'warn' }),
    });
    io.out(`${actor}: ${result.entries} entries, ${result.stored} stored, ${result.failedAgain} failed again (still in ${store.actorDir(actor)})\n`);
    return result.failedAgain === 0 ? EXIT.OK : EXIT.DATA;
  }
  if (sub !== 'list') throw new ArchiverError('ARCHIVER_USAGE', 'dead-letter needs a subcommand: list [actor] | retry <actor>');
  const actors = actor ? [actor] : await store.actors();
  let total = 0;
  for (const a of actors) {
    for (const e of await store.list(a)) {
      total++;
      io.out(`${a}\t${e.record.deadLetteredAt}\t${e.record.code}\t${e.record.source}\t${e.record.message}\t${e.dir}\n`);
    }
  }
  io.err(`${total} dead-lettered event${total === 1 ? '' : 's'} in ${store.dir}\n`);
  return EXIT.OK;
}

async function statusCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parse(args, { http: { type: 'string' }, json: { type: 'boolean' } }, false);
  const address = parseHttpOption(values.http);
  if (!address) throw new ArchiverError('ARCHIVER_USAGE', 'status needs the address the daemon serves /ready on (--http host:port), not "off"');
  const got = await fetchReadiness(address);
  if (!got.ok) {
    io.err(`heros-archiver: ${got.message}\n`);
    return EXIT.UNAVAILABLE;
  }
  io.out(values.json ? `${JSON.stringify(got.report, null, 2)}\n` : renderStatusTable(got.report));
  return got.report.ready ? EXIT.OK : EXIT.NOT_READY;
}

/**
 * `heros-archiver reload`: SIGHUP to the daemon whose pid `run` wrote into the state folder.
 * A pid file rather than the HTTP endpoint: it works with `--http off`, and it is what
 * systemd's `ExecReload=kill -HUP $MAINPID` does from outside.
 */
async function reloadCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parse(args, { 'state-dir': { type: 'string' }, 'pid-file': { type: 'string' } }, false);
  const file = path.resolve(values['pid-file'] ?? path.join(stateDir(values), PID_FILE));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    io.err(`heros-archiver: no running daemon: cannot read ${file}: ${(err as Error).message}\n`);
    return EXIT.UNAVAILABLE;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) {
    io.err(`heros-archiver: ${file} does not hold a process id\n`);
    return EXIT.UNAVAILABLE;
  }
  // A pid file left by a crash may name a process that has since reused the number; SIGHUP
  // would end most programs, so only a process that is a heros-archiver gets it.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (cmdline !== undefined && !/heros-archiver|cli\.[jt]s/.test(cmdline)) {
    io.err(`heros-archiver: process ${pid} from ${file} is not a heros-archiver (stale pid file)\n`);
    return EXIT.UNAVAILABLE;
  }
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    io.err(`heros-archiver: no running daemon with pid ${pid} (${file}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return EXIT.UNAVAILABLE;
  }
  io.out(`sent SIGHUP to heros-archiver (pid ${pid}); its log says what the reload did\n`);
  return EXIT.OK;
}

/** `--log` (BOSS: DEBUG, INFO, WARNING, …, any case) or `--log-level`, or $HEROS_LOG as BOSS reads it. */
function logLevel(values: { 'log-level'?: string | undefined; log?: string | undefined }): LogLevel {
  const given: [string, string][] = [];
  if (values['log-level'] !== undefined) given.push(['--log-level', values['log-level']]);
  if (values.log !== undefined) given.push(['--log', values.log]);
  if (given.length === 0 && process.env.HEROS_LOG) given.push(['$HEROS_LOG', process.env.HEROS_LOG]);
  const levels = given.map(([flag, text]) => {
    const level = LOG_LEVELS[text.toLowerCase()];
    if (!level) throw new ArchiverError('ARCHIVER_USAGE', `${flag} must be one of fatal, error, warn, info, debug, trace, silent (or BOSS's CRITICAL, WARNING, SPAM; any case) (got ${text})`);
    return level;
  });
  if (levels.length === 2 && levels[0] !== levels[1]) throw new ArchiverError('ARCHIVER_USAGE', `--log-level ${given[0]![1]} and --log ${given[1]![1]} disagree; give one`);
  return levels[0] ?? 'info';
}

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** Our levels and the names Python's logging (BOSS's --log) uses for them. */
const LOG_LEVELS: Record<string, LogLevel> = {
  fatal: 'fatal', critical: 'fatal', error: 'error', warn: 'warn', warning: 'warn',
  info: 'info', debug: 'debug', trace: 'trace', spam: 'trace', silent: 'silent',
};

/**
 * The archive folder of ArrowArchiver actor `id` among `prepared` (`where` names the manifests
 * in messages). Throws `ARCHIVER_USAGE` saying why there is none.
 */
function arrowActorDir(prepared: readonly PreparedActor[], id: string, root: string | undefined, where: string): string {
  const p = prepared.find((x) => x.entry.id === id);
  if (!p) throw new ArchiverError('ARCHIVER_USAGE', `no actor "${id}" in ${where}`);
  if (p.cls !== (ArrowArchiver as unknown)) throw new ArchiverError('ARCHIVER_USAGE', `actor "${id}" is a ${p.entry.classname}, not an ArrowArchiver`);
  const d = arrowArchiveDir(p.options as { save_template: string; archive_dir?: string });
  if (d === undefined) throw new ArchiverError('ARCHIVER_USAGE', `actor "${id}": save_template has no fixed folder; set archive_dir or give --dir`);
  return resolveArchivePath(d, { root: path.resolve(root ?? '/'), baseDir: process.cwd() }, id);
}

async function queryCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parse(args, {
    actor: { type: 'string' },
    manifest: { type: 'string', multiple: true, short: 'm' },
    dir: { type: 'string' },
    source: { type: 'string' },
    start: { type: 'string' },
    end: { type: 'string' },
    'time-column': { type: 'string' },
    format: { type: 'string', default: 'json' },
    root: { type: 'string' },
  });
  const format = values.format as QueryFormat;
  if (!['json', 'csv', 'arrow'].includes(format)) throw new ArchiverError('ARCHIVER_USAGE', `--format: expected json, csv or arrow, got "${values.format}"`);
  let dir = values.dir;
  if (dir === undefined) {
    if (!values.actor) throw new ArchiverError('ARCHIVER_USAGE', 'query needs --actor <id> (with -m manifest) or --dir <folder>');
    const manifests = values.manifest ?? ['boss.json'];
    dir = arrowActorDir(await loadPrepared(manifests), values.actor, values.root, manifests.join(', '));
  }
  // Times are ms since the epoch or ISO-8601 text.
  const time = (s: string | undefined): string | number | undefined => (s !== undefined && /^\d+$/.test(s) ? Number(s) : s);
  let batches;
  try {
    batches = queryArrow({ dir, source: values.source, start: time(values.start), end: time(values.end), timeColumn: values['time-column'] });
  } catch (err) {
    if (err instanceof RangeError) throw new ArchiverError('ARCHIVER_USAGE', err.message);
    throw err;
  }
  try {
    for await (const chunk of formatQuery(batches, format)) {
      if (typeof chunk === 'string') io.out(chunk);
      else if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
    }
  } catch (err) {
    if (err instanceof RangeError) throw new ArchiverError('ARCHIVER_USAGE', err.message);
    throw err;
  }
  return EXIT.OK;
}

function stateDir(values: { 'state-dir'?: string | undefined }): string {
  return path.resolve(values['state-dir'] ?? process.env.STATE_DIRECTORY?.split(':')[0] ?? '.heros-archiver');
}

function deadLetterDir(values: { 'state-dir'?: string | undefined; 'dead-letter-dir'?: string | undefined }): string {
  return path.resolve(values['dead-letter-dir'] ?? path.join(stateDir(values), 'dead-letter'));
}

async function runCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, RUN_OPTIONS);
  if (values.help) {
    io.out(USAGE);
    return EXIT.OK;
  }
  const level = logLevel(values);
  const format = values['log-format'] ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw new ArchiverError('ARCHIVER_USAGE', `--log-format must be json or pretty (got ${format})`);
  const drainTimeoutMs = values['drain-timeout'] === undefined ? 30_000 : Number(values['drain-timeout']);
  if (!Number.isFinite(drainTimeoutMs) || drainTimeoutMs < 0) throw new ArchiverError('ARCHIVER_USAGE', '--drain-timeout must be a number of milliseconds');
  if (values['write-threads'] !== undefined) {
    const threads = positiveInt(values['write-threads'], '--write-threads');
    if (threads > 64) throw new ArchiverError('ARCHIVER_USAGE', `--write-threads must be at most 64 (got ${threads})`);
    setWriteThreads(threads);
  }
  if (values['spare-files'] !== undefined) {
    const text = values['spare-files'];
    const spares = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(spares) || spares > 256) throw new ArchiverError('ARCHIVER_USAGE', `--spare-files must be a whole number from 0 to 256 (got ${text})`);
    setSpareFiles(spares);
  }
  // The in-process session unless a bridge is named (--zenoh, --bridge-ws) or asked for.
  const busKind = values.bus ?? (values.zenoh !== undefined || values['bridge-ws'] !== undefined ? 'bridge' : 'native');
  if (busKind !== 'bridge' && busKind !== 'native' && busKind !== 'memory') throw new ArchiverError('ARCHIVER_USAGE', `--bus must be bridge, native or memory (got ${busKind})`);
  if (busKind !== 'bridge' && (values.zenoh !== undefined || values['bridge-ws'] !== undefined)) {
    throw new ArchiverError('ARCHIVER_USAGE', `--zenoh and --bridge-ws name a bridge; --bus ${busKind} uses none`);
  }
  for (const flag of ['receive-buffer-bytes', 'receive-buffer-events'] as const) {
    if (busKind !== 'native' && values[flag] !== undefined) {
      throw new ArchiverError('ARCHIVER_USAGE', `--${flag} applies to the in-process Zenoh session (--bus native), not to --bus ${busKind}`);
    }
  }
  const receiveBuffer = {
    ...(values['receive-buffer-bytes'] !== undefined ? { maxQueuedBytes: positiveInt(values['receive-buffer-bytes'], '--receive-buffer-bytes') } : {}),
    ...(values['receive-buffer-events'] !== undefined ? { maxQueuedSamples: positiveInt(values['receive-buffer-events'], '--receive-buffer-events') } : {}),
  };
  const httpAddress = parseHttpOption(values.http);
  // Like BOSS: an exposed daemon needs a name; without --name it gets <hostname>_<random>.
  const name = values.name ?? (values.expose ? uniqueInstanceName() : undefined);
  if (values.expose) {
    const problem = heroNameProblem(name!);
    if (problem) throw new ArchiverError('ARCHIVER_USAGE', `--name: ${problem}`);
  }
  const logger = createLogger({ level, format, ...(name === undefined ? {} : { base: { instance: name } }) });
  const sources = manifestSources(positionals, values.url, values.env, ['boss.json']);
  const warnUnset = (names: string[]): void => logger.warn({ variables: names }, 'environment variables named by -e are not set; skipped, as BOSS does');
  const prepared = await loadPrepared(sources, warnUnset);
  const autostart = !values['no-autostart'];
  let currentPrepared = prepared;
  // Before the bridge is spawned: unsetEnvironment keeps NOTIFY_SOCKET from child processes,
  // which NotifyAccess=all would let speak for the service.
  const notifier = createNotifier({ logger, unsetEnvironment: true });
  let phase: DaemonPhase = 'starting';
  let boss: Boss | undefined;
  let busMonitor: BusMonitor | undefined;
  /** The in-process session's spill counters, for /metrics. */
  let spillSource: { spilledBytes: number; spilledTotal: number } | undefined;
  let liveness: LivenessCheck | undefined;
  let watchdog: WatchdogLoop | undefined;
  const readiness = (): ReadinessReport => ({ ...(name === undefined ? {} : { name }), ...evaluateReadiness({ phase, actors: boss?.status(), bus: busMonitor?.status() }) });

  const teardown: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    // Reverse order of creation: actors, then the bus, then the bridge.
    for (const step of teardown.reverse()) {
      try {
        await step();
      } catch (err) {
        logger.error({ err }, 'teardown step failed');
      }
    }
    teardown.length = 0;
  };
  // An actor's stray asynchronous error (a callback that throws, a promise nobody awaits) must
  // not take the other actors down: log it loudly and keep archiving.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => logger.fatal({ err }, 'uncaught exception; continuing'));

  let stopRequested: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => {
    stopRequested = resolve;
  });
  // A signal can come while the bus still waits for an absent bridge, before `stopped` is
  // awaited: the abort ends that wait.
  const stopController = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(EXIT.OK);
    }
    logger.info({ signal }, 'stopping');
    phase = 'stopping';
    void notifier.stopping(`stopping (${signal}): draining queues`);
    stopRequested(signal);
    stopController.abort(new Error(`stopped by ${signal} before the bus connected`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP (systemd's ExecReload=, `heros-archiver reload`) re-reads the manifests and applies
  // them: Boss.reload starts added actors, drains removed ones, restarts changed ones and leaves
  // the others running. Invalid manifests change nothing. A SIGHUP while starting is kept
  // for when the actors run; several while reloading make one more reload.
  let reloadQueued = false;
  const onReload = (): void => {
    if (phase !== 'running') {
      if (phase === 'starting' || phase === 'reloading') reloadQueued = true;
      return;
    }
    const current = boss;
    if (!current) return;
    phase = 'reloading';
    void (async () => {
      await notifier.reloading('re-reading the manifests');
      logger.info({ sources: sources.map((s) => s.value) }, 'reload: re-reading the manifests');
      try {
        const next = await loadPrepared(sources, warnUnset);
        const result = await current.reload(next);
        currentPrepared = next;
        logger.info({ ...result }, `reload: ${result.added.length} added, ${result.removed.length} removed, ${result.changed.length} changed, ${result.unchanged.length} unchanged`);
      } catch (err) {
        if (err instanceof ConfigError) {
          for (const p of err.problems) logger.error({ code: p.code, path: p.path, ...(p.actorId ? { actorId: p.actorId } : {}) }, `reload: ${p.path}: ${p.message}`);
        } else {
          logger.error({ err }, 'reload failed');
        }
        logger.error({ problems: err instanceof ConfigError ? err.problems.length : 1 }, 'reload: the new manifests are not usable; the running actors are unchanged');
      }
      if (phase === 'reloading') phase = 'running';
      if (phase === 'running') await notifier.ready(summarizeReadiness(readiness()));
      if (reloadQueued && phase === 'running') {
        reloadQueued = false;
        onReload();
      }
    })();
  };
  process.on('SIGHUP', onReload);
  const pidFile = path.join(stateDir(values), PID_FILE);
  try {
    await mkdir(path.dirname(pidFile), { recursive: true });
    await writeFile(pidFile, `${process.pid}\n`);
  } catch (err) {
    // Not fatal: systemd's ExecReload= and `kill -HUP` need no pid file.
    logger.warn({ err, pidFile }, 'cannot write the pid file; `heros-archiver reload` will not find this daemon');
  }
  teardown.push(async () => {
    // Only our own: another daemon may since have started on the same state folder.
    if ((await readFile(pidFile, 'utf8').catch(() => '')).trim() === String(process.pid)) await rm(pidFile, { force: true });
  });

  let metrics: ReturnType<typeof createMetrics> | undefined;
  try {
    if (httpAddress) {
      metrics = createMetrics({
        actors: () => boss?.status() ?? [],
        bus: () => busMonitor?.status(),
        receive: () => boss?.receiveStatus(),
        ...(busKind === 'native' ? { spill: () => (spillSource ? { bytes: spillSource.spilledBytes, total: spillSource.spilledTotal } : undefined) } : {}),
      });
      const http = await startHttpServer({ ...httpAddress, metrics, readiness, logger, arrowQuery: (id) => {
          try {
            return arrowActorDir(currentPrepared, id, values.root, 'the running manifests');
          } catch {
            return undefined; // not an ArrowArchiver actor: 404
          }
        },
      });
      // Pushed first, so closed last: /ready and /metrics answer while the actors drain.
      teardown.push(() => http.close());
    }
    void notifier.status(
      busKind === 'memory' ? 'opening the in-process bus' : busKind === 'native' ? 'opening the in-process Zenoh session' : values.zenoh ? `connecting to the Zenoh bridge at ${values.zenoh}` : 'starting the Zenoh bridge',
    );
    const bus = await openBus(values, busKind, receiveBuffer, logger, teardown, stopController.signal);
    if ('spilledBytes' in bus && 'spilledTotal' in bus) spillSource = bus as unknown as { spilledBytes: number; spilledTotal: number };
    const monitor = new BusMonitor(bus);
    busMonitor = monitor;
    teardown.push(async () => monitor.close());
    boss = new Boss({
      ...(metrics ? { metrics } : {}),
      bus,
      logger,
      realm: values.realm ?? 'heros',
      root: values.root ?? '/',
      stateDir: stateDir(values),
      deadLetterDir: deadLetterDir(values),
      drainTimeoutMs,
    });
    const started = boss;
    teardown.push(() => started.stop());
    const running = await boss.start(prepared, { autostart });
    logger.info({ actors: prepared.length, running, ...(autostart ? {} : { autostart: false }) }, autostart ? 'ready' : 'ready; actors not started (--no-autostart)');
    if (values.expose) {
      // The daemon and each running actor become HEROs (BOSS's --expose): Python tools find
      // them, and the daemon answers status(), start_hero(), stop_hero(), start_all(), ….
      const configOf = (id: string) => {
        const e = currentPrepared.find((p) => p.entry.id === id)?.entry;
        return e && { _id: e.id, classname: e.classname, arguments: e.arguments };
      };
      const exposed = await exposeBoss(
        bus,
        {
          status: () => started.status().map((a) => ({ ...a, config: configOf(a.id) })),
          startActor: (id) => started.startActor(id),
          stopActor: (id) => started.stopActor(id),
          startAll: () => started.startAll(),
          stopAll: () => started.stopAll(),
          refresh: async () => onReload(),
        },
        {
          name: name!,
          realm: values.realm ?? 'heros',
          pkgVersions: { 'heros-archiver': version() },
          onError: (err, actorId) => logger.warn({ err, actorId }, 'cannot expose actor as a HERO; retrying'),
        },
      );
      // Pushed after the actors: the HEROs disappear first at teardown.
      teardown.push(() => exposed.close());
      logger.info({ name, realm: values.realm ?? 'heros' }, 'exposed as a HERO');
    }
    if (phase === 'starting') phase = 'running';
    // Not after STOPPING=1: a signal may have come while the actors started.
    if (phase === 'running') await notifier.ready(summarizeReadiness(readiness()));
    if (reloadQueued && phase === 'running') {
      reloadQueued = false;
      onReload();
    }
    // An operator-run bridge (--zenoh), the memory bus or the in-process session (which Zenoh
    // itself keeps reconnecting) cannot be fixed by restarting us.
    liveness = createLivenessCheck({ bus: monitor, maxBusDownMs: values.zenoh !== undefined || busKind !== 'bridge' ? Infinity : 120_000, logger });
    const check = liveness;
    watchdog = startWatchdog({ notifier, check: () => check.check(), logger });
    await stopped;
    await closeAll();
    logger.info('stopped');
    return EXIT.OK;
  } catch (err) {
    await closeAll();
    if (stopController.signal.aborted && err === stopController.signal.reason) {
      logger.info('stopped');
      return EXIT.OK;
    }
    throw err;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onReload);
    // After the drain: systemd stops expecting pings once it has sent SIGTERM.
    watchdog?.stop();
    liveness?.close();
    await notifier.close();
  }
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ArchiverError('ARCHIVER_USAGE', `${flag} must be a positive whole number (got "${text}")`);
  return n;
}

async function openBus(values: { zenoh?: string | undefined; 'state-dir'?: string | undefined; 'bridge-listen'?: string[] | undefined; 'bridge-connect'?: string[] | undefined; 'bridge-config'?: string | undefined; 'no-multicast-scouting'?: boolean | undefined; 'bridge-ws'?: string | undefined; 'bridge-cfg'?: string[] | undefined; 'max-message-bytes'?: string | undefined }, busKind: 'bridge' | 'native' | 'memory', receiveBuffer: Pick<NativeZenohBusOptions, 'maxQueuedBytes' | 'maxQueuedSamples'>, logger: Logger, teardown: (() => Promise<void>)[], signal: AbortSignal): Promise<Bus> {
  if (busKind === 'memory') {
    const { MemoryBus } = await import('./bus/memory.js');
    const bus = new MemoryBus();
    teardown.push(() => bus.close());
    return bus;
  }
  const maxMessageBytes = values['max-message-bytes'] === undefined ? undefined : positiveInt(values['max-message-bytes'], '--max-message-bytes');
  if (busKind === 'native') {
    const { NativeZenohBus } = await import('./bus/native.js');
    const cfg = [...(values['bridge-cfg'] ?? [])];
    if (maxMessageBytes !== undefined) cfg.push(`transport/link/rx/max_message_size:${maxMessageBytes}`);
    const bus = new NativeZenohBus({
      ...(values['bridge-listen'] ? { listen: values['bridge-listen'] } : {}),
      ...(values['bridge-connect'] ? { connect: values['bridge-connect'] } : {}),
      ...(values['bridge-config'] !== undefined ? { configFile: values['bridge-config'] } : {}),
      ...(values['no-multicast-scouting'] ? { multicastScouting: false } : {}),
      cfg,
      ...receiveBuffer,
      spillFolder: path.join(stateDir(values), 'receive-spill'),
      logger,
    });
    teardown.push(() => bus.close());
    await bus.start();
    return bus;
  }
  const zenoh = await import('./bus/zenoh-launch.js');
  return zenoh.openZenohBus(
    {
      url: values.zenoh,
      listen: values['bridge-listen'],
      connect: values['bridge-connect'],
      configFile: values['bridge-config'],
      multicastScouting: !values['no-multicast-scouting'],
      ws: values['bridge-ws'],
      cfg: values['bridge-cfg'],
      maxMessageBytes,
      signal,
    },
    logger,
    teardown,
  );
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

// Run when executed directly (the launcher in bin/), not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`heros-archiver: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = EXIT.SOFTWARE;
    },
  );
}
