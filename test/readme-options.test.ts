import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrayArchiver } from '../actors/array-archiver.js';
import { JsonArchiver } from '../actors/json-archiver.js';
import { ArrowArchiver } from '../actors/arrow-archiver.js';
import { DataArchiver } from '../src/archiver.js';
import type { OptionsSchema } from '../src/options.js';
import { repoRoot } from './helpers/python.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

function tableOptions(heading: string): Map<string, string> {
  const start = readme.indexOf(`\n### ${heading}\n`);
  expect(start, `README has "### ${heading}"`).toBeGreaterThan(0);
  const end = readme.indexOf('\n### ', start + 5);
  const cell = '((?:[^|\\\\]|\\\\.)+)';
  const rows = readme.slice(start, end).matchAll(new RegExp(`^\\| \`([a-z_]+)\` \\| ${cell} \\| ${cell} \\|`, 'gm'));
  return new Map([...rows].map((m) => [m[1]!, m[3]!.trim()]));
}

function defaultText(schema: OptionsSchema, name: string): string | undefined {
  const d = schema[name]?.default;
  if (d === undefined) return undefined;
  return typeof d === 'string' ? `\`${d}\`` : `\`${JSON.stringify(d)}\``;
}

describe('README option tables match the option schemas', () => {
  const common = tableOptions('Options of every archiver');
  it.each([
    ['ArrayArchiver', ArrayArchiver.optionsSchema],
    ['JsonArchiver', JsonArchiver.optionsSchema],
    ['ArrowArchiver', ArrowArchiver.optionsSchema],
  ])('%s: every option is documented once, with its default', (name, schema) => {
    const own = tableOptions(name);
    const documented = new Map([...common, ...own]);
    expect([...documented.keys()].sort()).toEqual(Object.keys(schema).sort());
    for (const opt of Object.keys(schema)) {
      const d = defaultText(schema, opt);
      if (d !== undefined) expect(documented.get(opt), `${name}.${opt} default`).toBe(d);
    }
  });
  it('the common table is exactly the DataArchiver options', () => {
    expect([...common.keys()].sort()).toEqual(Object.keys(DataArchiver.optionsSchema).sort());
  });
});
