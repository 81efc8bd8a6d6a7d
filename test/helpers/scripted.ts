import path from 'node:path';
import { repoRoot } from './python.js';

/** Manifest entry for a ScriptedArchiver (test/fixtures) with fast retries. */
export function scriptedEntry(id: string, args: Record<string, unknown> = {}) {
  return {
    _id: id,
    classname: `${path.join(repoRoot, 'test/fixtures/scripted-archiver.ts')}#ScriptedArchiver`,
    arguments: { object_selector: 'cam', event_name: 'frame', retry_delay_ms: 1, retry_max_delay_ms: 5, ...args },
  };
}
