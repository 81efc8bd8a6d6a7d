/**
 * The `heros-archiver` command. Process concerns live here and only here: arguments, signals,
 * exit codes, reading files named on the command line. Everything else is in `Boss`.
 *
* Exit codes (sysexits.h): 0 ok, 64 usage error, 65 bad input data (a template that fails on
 * the given metadata), 69 a required service is unavailable (the
 * bridge), 70 internal error, 78 invalid configuration (systemd's RestartPreventExitStatus=78
 * keeps a broken manifest from restarting in a loop).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Boss, prepareActors } from './boss.js';
import type { Bus } from './bus/bus.js';
import { DeadLetterStore } from './dead-letter.js';
import { replayDeadLetters } from './dead-letter-replay.js';
import { ArchiverError, ConfigError } from './errors.js';
import { parseJsonKeepingPythonNumbers } from './formats/json-input.js';
import { createLogger, type Logger } from './log.js';
import { parseManifests, readManifestFiles } from './manifest.js';
import { compileTemplate } from './template.js';
import { BusMonitor } from './bus/bus-monitor.js';
import { fetchReadiness, parseHttpOption, startHttpServer } from './http.js';
import { createLivenessCheck, type LivenessCheck } from './liveness.js';
import { createMetrics } from './metrics.js';
import { evaluateReadiness, summarizeReadiness, type DaemonPhase } from './readiness.js';
import { renderStatusTable } from './status-table.js';
import { createNotifier, startWatchdog, type WatchdogLoop } from './systemd.js';

/** Exit codes. */
export const EXIT = { OK: 0, NOT_READY: 1, USAGE: 64, DATA: 65, UNAVAILABLE: 69, SOFTWARE: 70, CONFIG: 78 } as const;

const USAGE = `Usage: heros-archiver <command> [options]

Commands:
  run [manifest...]        Run the actors of BOSS manifests (files or folders; default boss.json)
  validate <manifest...>   Check manifests without running them; exit 78 listing every problem
  render --template T --metadata JSON
                           Print the file name a save_template gives for some metadata
  status [--http host:port] [--json]
                           Show a running daemon's actors and counters (from its /ready);
                           exit 0 ready, 1 not ready, 69 no daemon answers
  dead-letter list [actor] List dead-lettered events
  dead-letter retry <actor> [-m manifest…]
                           Re-play an actor's dead-lettered events (after fixing the cause)
  help                     This text
  version                  Print the version

Options of run:
  --zenoh <locator>        Use an operator-run bridge (e.g. ws/127.0.0.1:10000) instead of
                           starting one
  --bridge-listen <ep>     Zenoh endpoint the managed bridge listens on (repeatable)
  --bridge-connect <ep>    Zenoh endpoint the managed bridge connects to (repeatable)
  --bridge-config <file>   Zenoh JSON5 configuration file for the managed bridge
  --no-multicast-scouting  Managed bridge: do not scout for peers by UDP multicast
  --bridge-ws <host:port>  Managed bridge WebSocket address (default 127.0.0.1, free port)
  --bridge-cfg <KEY:VALUE> Managed bridge: extra Zenoh setting (repeatable)
  --max-message-bytes <n>  Largest event accepted from the bridge (default 1 GiB + 1 MiB)
  --realm <name>           HEROS realm (default heros)
  --root <dir>             Folder every archived file must be inside (default /)
  --state-dir <dir>        State folder (default $STATE_DIRECTORY or ./.heros-archiver)
  --dead-letter-dir <dir>  Dead-letter folder (default <state-dir>/dead-letter)
  --drain-timeout <ms>     Time to store queued events on stop (default 30000)
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
  realm: { type: 'string' },
  root: { type: 'string' },
  'state-dir': { type: 'string' },
  'dead-letter-dir': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  http: { type: 'string' },
  bus: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
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
      case 'dead-letter':
        return await deadLetterCommand(rest, io);
      case 'status':
        return await statusCommand(rest, io);
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

async function loadPrepared(manifests: readonly string[]) {
  const docs = await readManifestFiles(manifests);
  const entries = parseManifests(docs);
  return prepareActors(entries);
}

async function validateCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { positionals } = parse(args, { help: { type: 'boolean', short: 'h' } });
  if (positionals.length === 0) throw new ArchiverError('ARCHIVER_USAGE', 'validate needs at least one manifest file or folder');
  const prepared = await loadPrepared(positionals);
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
  const level = (values['log-level'] ?? 'info') as 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ArchiverError('ARCHIVER_USAGE', `--log-level must be one of fatal, error, warn, info, debug, trace, silent (got ${level})`);
  }
  const drainTimeoutMs = values['drain-timeout'] === undefined ? 30_000 : Number(values['drain-timeout']);
  if (!Number.isFinite(drainTimeoutMs) || drainTimeoutMs < 0) throw new ArchiverError('ARCHIVER_USAGE', '--drain-timeout must be a number of milliseconds');
  const httpAddress = parseHttpOption(values.http);
  const logger = createLogger({ level });
  const manifests = positionals.length > 0 ? positionals : ['boss.json'];
  const prepared = await loadPrepared(manifests);
  // Before the bridge is spawned: unsetEnvironment keeps NOTIFY_SOCKET from child processes,
  // which NotifyAccess=all would let speak for the service.
  const notifier = createNotifier({ logger, unsetEnvironment: true });
  let phase: DaemonPhase = 'starting';
  let boss: Boss | undefined;
  let busMonitor: BusMonitor | undefined;
  let liveness: LivenessCheck | undefined;
  let watchdog: WatchdogLoop | undefined;
  const readiness = () => evaluateReadiness({ phase, actors: boss?.status(), bus: busMonitor?.status() });

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
  // ExecReload= sends SIGHUP, which would kill Node without a handler. Reload re-checks the
  // manifests on disk and says whether a restart is needed; the running actors are unchanged.
  const onReload = (): void => {
    if (phase !== 'running') return;
    phase = 'reloading';
    void (async () => {
      await notifier.reloading('checking manifests');
      try {
        const onDisk = await loadPrepared(manifests);
        const same = JSON.stringify(onDisk.map((p) => [p.entry.id, p.entry.classname, p.options])) === JSON.stringify(prepared.map((p) => [p.entry.id, p.entry.classname, p.options]));
        logger.info({ actors: onDisk.length, changed: !same }, same ? 'reload: manifests unchanged' : 'reload: manifests changed and are valid; restart the service to apply them');
      } catch (err) {
        logger.error({ err }, 'reload: the manifests on disk are invalid; the running actors are unchanged');
      }
      if (phase === 'reloading') phase = 'running';
      await notifier.ready(summarizeReadiness(readiness()));
    })();
  };
  process.on('SIGHUP', onReload);

  try {
    if (httpAddress) {
      const metrics = createMetrics({ actors: () => boss?.status() ?? [], bus: () => busMonitor?.status() });
      const http = await startHttpServer({ ...httpAddress, metrics, readiness, logger });
      // Pushed first, so closed last: /ready and /metrics answer while the actors drain.
      teardown.push(() => http.close());
    }
    void notifier.status(values.bus === 'memory' ? 'opening the in-process bus' : values.zenoh ? `connecting to the Zenoh bridge at ${values.zenoh}` : 'starting the Zenoh bridge');
    const bus = await openBus(values, logger, teardown, stopController.signal);
    const monitor = new BusMonitor(bus);
    busMonitor = monitor;
    teardown.push(async () => monitor.close());
    boss = new Boss({
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
    const running = await boss.start(prepared);
    logger.info({ actors: prepared.length, running }, 'ready');
    if (phase === 'starting') phase = 'running';
    // Not after STOPPING=1: a signal may have come while the actors started.
    if (phase === 'running') await notifier.ready(summarizeReadiness(readiness()));
    // An operator-run bridge (--zenoh) or the memory bus cannot be fixed by restarting us.
    liveness = createLivenessCheck({ bus: monitor, maxBusDownMs: values.zenoh !== undefined || values.bus === 'memory' ? Infinity : 120_000, logger });
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

async function openBus(values: { zenoh?: string | undefined; bus?: string | undefined; 'bridge-listen'?: string[] | undefined; 'bridge-connect'?: string[] | undefined; 'bridge-config'?: string | undefined; 'no-multicast-scouting'?: boolean | undefined; 'bridge-ws'?: string | undefined; 'bridge-cfg'?: string[] | undefined; 'max-message-bytes'?: string | undefined }, logger: Logger, teardown: (() => Promise<void>)[], signal: AbortSignal): Promise<Bus> {
  if (values.bus === 'memory') {
    const { MemoryBus } = await import('./bus/memory.js');
    const bus = new MemoryBus();
    teardown.push(() => bus.close());
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
      maxMessageBytes: values['max-message-bytes'] === undefined ? undefined : positiveInt(values['max-message-bytes'], '--max-message-bytes'),
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
