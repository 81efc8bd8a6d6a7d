import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareActors } from '../src/boss.js';
import { ConfigError } from '../src/errors.js';
import { parseManifests } from '../src/manifest.js';

const doc = (text: string) => ({ source: 'fuzz.json', baseDir: '/tmp', text });

function onlyConfigErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.length).toBeGreaterThan(0);
  }
}

describe('manifest parser on hostile input (seeded)', () => {
  it('random text never throws anything but a ConfigError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => onlyConfigErrors(() => parseManifests([doc(text)]))),
      { seed: 20261123, numRuns: 3000 },
    );
  });

  it('random JSON values never throw anything but a ConfigError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => onlyConfigErrors(() => parseManifests([doc(JSON.stringify(value))]))),
      { seed: 20261124, numRuns: 3000 },
    );
  });

  it('entries with random arguments are refused with coded problems, never a crash', async () => {
    const classnames = fc.constantFrom('ArrayArchiver', 'JsonArchiver', 'herostools.actor.ArrayArchiver');
    const args = fc.dictionary(
      fc.constantFrom('object_selector', 'event_name', 'save_template', 'split_data_array', 'max_retries', 'default_metadata', 'merge_metadata', 'root', 'fsync', 'x', '__proto__', 'constructor'),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('{{ x ', '{{ x }}', '{% for %}', '$cam', '@_boss_loop')),
    );
    await fc.assert(
      fc.asyncProperty(classnames, args, async (classname, a) => {
        let entries;
        try {
          entries = parseManifests([doc(JSON.stringify([{ _id: 'a', classname, arguments: a }]))]);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          return;
        }
        try {
          await prepareActors(entries);
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          for (const p of (err as ConfigError).problems) {
            expect(p.code).toMatch(/^ARCHIVER_/);
            expect(p.path.startsWith('fuzz.json[0].')).toBe(true);
          }
        }
      }),
      { seed: 20261125, numRuns: 500 },
    );
  });
});
