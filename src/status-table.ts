/**
 * `heros-archiver status`: the `/ready` report of a running daemon as a plain-text table, for
 * a terminal or a support ticket. Input comes over HTTP, so every field is read defensively:
 * a report from another version prints what it has and `-` for the rest.
 *
 *   ready: no — actor "cam" is unhealthy (ENOSPC since 2025-01-01T00:00:00.000Z)
 *   bus: connected, 2 reconnects, 3.4 s disconnected in total
 *
 *   ACTOR  CLASS          STATE    RECEIVED  STORED  RETRIED  DEAD-LETTERED  PENDING  HEALTH
 *   cam    ArrayArchiver  running      1520    1518        3              0        2  fault ENOSPC since …
 */

const COLUMNS = ['ACTOR', 'CLASS', 'STATE', 'RECEIVED', 'STORED', 'RETRIED', 'DEAD-LETTERED', 'PENDING', 'HEALTH'] as const;
/** Counts are right-aligned so that magnitudes line up. */
const NUMERIC = new Set<string>(['RECEIVED', 'STORED', 'RETRIED', 'DEAD-LETTERED', 'PENDING']);

/** Renders a `/ready` report (parsed JSON) as text ending in a newline. */
export function renderStatusTable(readyJson: unknown): string {
  const report = asRecord(readyJson);
  const lines: string[] = [];
  const ready = report.ready === true;
  const reasons = Array.isArray(report.reasons) ? report.reasons.filter((r): r is string => typeof r === 'string') : [];
  if (typeof report.name === 'string') lines.push(`name: ${report.name}`);
  lines.push(`ready: ${ready ? 'yes' : 'no'}${!ready && reasons.length > 0 ? ` — ${reasons.join('; ')}` : ''}`);
  lines.push(`bus: ${busLine(report.bus)}`);
  lines.push('');

  const actors = Array.isArray(report.actors) ? report.actors.map(asRecord) : [];
  if (actors.length === 0) {
    lines.push('no actors');
    return `${lines.join('\n')}\n`;
  }
  const rows = actors.map((a) => {
    const stats = asRecord(a.stats);
    return [
      text(a.id),
      text(a.classname),
      text(a.state),
      count(stats.received),
      count(stats.stored),
      count(stats.retried),
      count(stats.deadLettered),
      count(stats.pending),
      healthText(a.health),
    ];
  });
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : NUMERIC.has(COLUMNS[i] ?? '') ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  lines.push(format(COLUMNS));
  for (const row of rows) lines.push(format(row));

  // Errors are long (messages with paths); below the table they do not stretch every row.
  const errors = actors.filter((a) => a.error !== undefined).map((a) => {
    const e = asRecord(a.error);
    return `  ${text(a.id)}: ${text(e.message)} [${text(e.code)}]`;
  });
  if (errors.length > 0) lines.push('', 'errors:', ...errors);
  return `${lines.join('\n')}\n`;
}

function busLine(value: unknown): string {
  if (value === null || value === undefined) return 'not open';
  const bus = asRecord(value);
  const parts = [text(bus.state)];
  if (typeof bus.downSince === 'string') parts[0] += ` since ${bus.downSince}`;
  if (typeof bus.reconnects === 'number') parts.push(`${bus.reconnects} reconnect${bus.reconnects === 1 ? '' : 's'}`);
  if (typeof bus.gapSeconds === 'number' && bus.gapSeconds > 0) parts.push(`${round1(bus.gapSeconds)} s disconnected in total`);
  return parts.join(', ');
}

function healthText(value: unknown): string {
  if (value === undefined || value === null) return '-';
  const health = asRecord(value);
  if (health.healthy === true) return 'ok';
  const fault = asRecord(health.fault);
  if (typeof fault.errno !== 'string') return 'unhealthy';
  return `fault ${fault.errno}${typeof fault.since === 'string' ? ` since ${fault.since}` : ''}`;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  // Control characters would break the table (and a terminal); names never need them.
  return typeof value === 'string' && value !== '' ? value.replace(/[\u0000-\u001f\u007f]/g, '?') : '-';
}

function count(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '-';
}

function round1(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}
