import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { repoRoot } from './helpers/python.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README has a "${title}" chapter`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README error table', () => {
  it('lists exactly the codes of src/errors.ts, with the same retry flag and text', () => {
    const rows = [...section('Error codes').matchAll(/^\| `(ARCHIVER_[A-Z_]+)` \| (yes|no) \| (.*) \|$/gm)];
    const table = Object.fromEntries(rows.map((m) => [m[1], { retryable: m[2] === 'yes', summary: m[3] }]));
    expect(table).toEqual(Object.fromEntries(Object.entries(ERROR_CODES).map(([k, v]) => [k, { retryable: v.retryable, summary: v.summary }])));
  });
});
