import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Boss, prepareActors } from '../src/boss.js';
import { MemoryBus } from '../src/bus/memory.js';
import { encodeHeros } from '../src/heros/cbor.js';
import { silentLogger } from '../src/log.js';
import { parseManifests } from '../src/manifest.js';
import { FlakyStartActor } from './fixtures/flaky-start-actor.js';
import { tempDir, until } from './helpers/harness.js';
import { repoRoot } from './helpers/python.js';

const cls = `${path.join(repoRoot, 'test/fixtures/flaky-start-actor.ts')}#FlakyStartActor`;

describe('an actor that fails to start', () => {
  let cleanup = async () => {};
  afterEach(() => cleanup());

  it('does not stop the others, is restarted with backoff and reported meanwhile', async () => {
    const t = await tempDir();
    const entries = parseManifests([
      {
        source: 'm.json',
        baseDir: t.dir,
        text: JSON.stringify([
          { _id: 'flaky', classname: cls, arguments: { object_selector: 'cam', event_name: 'frame', fail_starts: 2 } },
          { _id: 'steady', classname: cls, arguments: { object_selector: 'cam', event_name: 'frame' } },
        ]),
      },
    ]);
    const bus = new MemoryBus();
    const boss = new Boss({ bus, logger: silentLogger(), restartDelayMs: 20, restartMaxDelayMs: 50, deadLetterDir: path.join(t.dir, 'dl') });
    cleanup = async () => {
      await boss.stop();
      await t.cleanup();
    };
    expect(await boss.start(await prepareActors(entries))).toBe(1);
    const [flaky, steady] = boss.status();
    expect(flaky).toMatchObject({ id: 'flaky', state: 'restarting', error: { code: 'ARCHIVER_ACTOR_START_FAILED' } });
    expect(flaky?.error?.message).toContain('share not mounted');
    expect(steady?.state).toBe('running');
    await bus.put('@object/heros/cam/frame', encodeHeros([1, {}]));
    await until(() => FlakyStartActor.received.get('steady') === 1);

    await until(() => boss.status()[0]?.state === 'running', 5_000, 'flaky actor running');
    expect(FlakyStartActor.attempts.get('flaky')).toBe(3);
    expect(boss.status()[0]?.error).toBeUndefined();
    await bus.put('@object/heros/cam/frame', encodeHeros([2, {}]));
    await until(() => FlakyStartActor.received.get('flaky') === 1);
  });
});
