import { describe, expect, it } from 'vitest';
import { formatLogLine } from '../src/log-pretty.js';

describe('formatLogLine', () => {
  it('turns a pino JSON line into time, level, actor, message and key=value fields', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-11-23T14:45:01.123Z', name: 'heros-archiver', actor: 'cam', classname: 'ArrayArchiver', msg: 'actor started' });
    expect(formatLogLine(`${line}\n`)).toBe('14:45:01.123 INFO  cam: actor started classname=ArrayArchiver\n');
  });

  it('quotes values with spaces, shows objects as JSON and the message of err, with its stack for errors', () => {
    const line = JSON.stringify({
      level: 'error',
      time: '2026-11-23T14:45:02.456Z',
      name: 'heros-archiver',
      msg: 'actor failed to start; restarting later',
      actor: 'cam',
      failures: 1,
      path: '/mnt/share a',
      removed: ['gone'],
      err: { type: 'Error', message: 'share not mounted', stack: 'Error: share not mounted\n    at start (a.js:1:1)\n    at run (b.js:2:2)' },
    });
    expect(formatLogLine(line)).toBe(
      '14:45:02.456 ERROR cam: actor failed to start; restarting later failures=1 path="/mnt/share a" removed=["gone"] err="share not mounted"\n' +
        '    at start (a.js:1:1)\n    at run (b.js:2:2)\n',
    );
  });

  it('keeps the stack out of warnings, colours the level on request and passes other text through', () => {
    const warn = JSON.stringify({ level: 'warn', time: '2026-11-23T14:45:03.000Z', msg: 'retrying', err: { message: 'EIO', stack: 'Error: EIO\n    at x' } });
    expect(formatLogLine(warn)).toBe('14:45:03.000 WARN  retrying err=EIO\n');
    expect(formatLogLine(warn, { colour: true })).toBe('14:45:03.000 \x1b[33mWARN \x1b[0m retrying err=EIO\n');
    expect(formatLogLine('not json at all\n')).toBe('not json at all\n');
    expect(formatLogLine('[1,2]')).toBe('[1,2]\n');
  });
});
