/**
 * Readiness: whether the daemon archives everything it was asked to, as `GET /ready`, the
 * `status` command and the systemd `STATUS=` line report it. Ready means: the actors have
 * been started, every one is `running` and healthy (no storage fault), and the bus is
 * connected.
 */
import type { ActorStatus } from './boss.js';
import type { BusStatus } from './bus/bus-monitor.js';

/** Where the process is in its life, as the CLI knows it. */
export type DaemonPhase = 'starting' | 'running' | 'reloading' | 'stopping';

/** The body of `GET /ready`. */
export interface ReadinessReport {
  /** The daemon's `--name`, when it was given one. */
  name?: string;
  ready: boolean;
  /** `ready` or `not ready`, for humans reading the JSON. */
  status: 'ready' | 'not ready';
  phase: DaemonPhase;
  /** Why it is not ready; empty when ready. */
  reasons: string[];
  /** The bus, when one is open. */
  bus: BusStatus | null;
  /** Every actor with its state, counters and health (as `Boss.status()`). */
  actors: ActorStatus[];
}

/** What readiness is computed from; each part may still be missing while starting. */
export interface ReadinessInput {
  phase: DaemonPhase;
  actors?: readonly ActorStatus[] | undefined;
  bus?: BusStatus | undefined;
}

/** Computes readiness from a snapshot. Pure. */
export function evaluateReadiness(input: ReadinessInput): ReadinessReport {
  const reasons: string[] = [];
  if (input.phase !== 'running') reasons.push(`the daemon is ${input.phase}`);
  if (input.bus === undefined) reasons.push('the bus is not open yet');
  else if (!input.bus.connected) reasons.push(`the bus is ${input.bus.state}`);
  const actors = [...(input.actors ?? [])];
  for (const a of actors) {
    if (a.state !== 'running') reasons.push(`actor "${a.id}" is ${a.state}${a.error ? ` (${a.error.code})` : ''}`);
    else if (a.health && !a.health.healthy) reasons.push(`actor "${a.id}" is unhealthy${a.health.fault ? ` (${a.health.fault.errno} since ${a.health.fault.since})` : ''}`);
  }
  const ready = reasons.length === 0;
  return { ready, status: ready ? 'ready' : 'not ready', phase: input.phase, reasons, bus: input.bus ?? null, actors };
}

/**
 * One line for systemd's `STATUS=` (shown by `systemctl status`), e.g.
 * `ready: 3/3 actors running, bus connected, 1520 stored, 0 dead-lettered, 2 pending`.
 */
export function summarizeReadiness(report: ReadinessReport): string {
  const running = report.actors.filter((a) => a.state === 'running').length;
  const sum = (k: 'stored' | 'deadLettered' | 'pending'): number => report.actors.reduce((n, a) => n + (a.stats?.[k] ?? 0), 0);
  const head = report.ready ? 'ready' : `not ready (${report.reasons[0] ?? 'unknown'})`;
  const bus = report.bus ? `bus ${report.bus.state}` : 'no bus';
  return `${head}: ${running}/${report.actors.length} actors running, ${bus}, ${sum('stored')} stored, ${sum('deadLettered')} dead-lettered, ${sum('pending')} pending`;
}
