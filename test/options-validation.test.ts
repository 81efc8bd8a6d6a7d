import { describe, expect, it } from 'vitest';
import { prepareActors } from '../src/boss.js';
import { ConfigError } from '../src/errors.js';
import { parseManifests } from '../src/manifest.js';

async function problems(args: Record<string, unknown>, classname = 'herostools.actor.ArrayArchiver') {
  const entries = parseManifests([{ source: 'boss.json', baseDir: '/tmp', text: JSON.stringify([{ _id: 'cam', classname, arguments: args }]) }]);
  try {
    await prepareActors(entries);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}

const good = { object_selector: 'cam', event_name: 'frame', save_template: '/data/{{ n }}.npy' };

describe('actor arguments are checked strictly against the class', () => {
  it('accepts the seed example arguments', async () => {
    expect(await problems({ ...good, default_metadata: { file_path: '/mnt' } })).toEqual([]);
  });

  it('refuses unknown keys and suggests the closest name', async () => {
    const [p] = await problems({ ...good, split_data_aray: true });
    expect(p?.code).toBe('ARCHIVER_OPTIONS_INVALID');
    expect(p?.path).toBe('boss.json[0].arguments.split_data_aray');
    expect(p?.message).toContain('did you mean "split_data_array"');
  });

  it('reports missing required options and wrong types together', async () => {
    const ps = await problems({ event_name: 3, max_retries: -1, split_data_array: 'yes' });
    expect(ps.map((p) => p.path).sort()).toEqual(
      ['event_name', 'max_retries', 'object_selector', 'save_template', 'split_data_array'].map((k) => `boss.json[0].arguments.${k}`),
    );
    expect(ps.find((p) => p.path.endsWith('.event_name'))?.message).toBe('expected a string, got a number 3');
  });

  it('reports a template that does not compile at .save_template', async () => {
    const [p] = await problems({ ...good, save_template: '{{ frame ' });
    expect(p?.code).toBe('ARCHIVER_TEMPLATE_INVALID');
    expect(p?.path).toBe('boss.json[0].arguments.save_template');
  });

  it('refuses BOSS RemoteHERO references ("$name")', async () => {
    const ps = await problems({ ...good, object_selector: '$camera' });
    expect(ps.some((p) => p.path.endsWith('.object_selector') && p.message.includes('RemoteHERO'))).toBe(true);
  });

  it('takes max_retries written as a float (herostools does int(max_retries))', async () => {
    const entries = parseManifests([{ source: 'b.json', baseDir: '/tmp', text: `[{"_id":"a","classname":"JsonArchiver","arguments":{"object_selector":"x","event_name":"e","save_template":"a","max_retries":3.0}}]` }]);
    const [p] = await prepareActors(entries);
    expect(p?.options.max_retries).toBe(3);
  });
});
