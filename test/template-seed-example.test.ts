import { describe, expect, test } from 'vitest';
import { compileTemplate } from '../src/template.js';

// The save_template from the herostools documentation. The filter binds tighter than `%`:
// '%04d' % ((frame / 2) | round(0, 'floor')), and `/` is true division, so the counter
// advances every second frame while `frame % 2` alternates.
const SEED = "{{ file_path }}/testimg-{{ '%04d' % ( frame / 2 ) |round(0, 'floor') }}-{{ frame % 2 }}.npy";

describe('the herostools save_template example', () => {
  test.each([
    [0, '/mnt/x/testimg-0000-0.npy'],
    [1, '/mnt/x/testimg-0000-1.npy'],
    [2, '/mnt/x/testimg-0001-0.npy'],
    [3, '/mnt/x/testimg-0001-1.npy'],
    [19999, '/mnt/x/testimg-9999-1.npy'],
    [20000, '/mnt/x/testimg-10000-0.npy'],
  ])('frame %i renders %s', (frame, expected) => {
    expect(compileTemplate(SEED).render({ file_path: '/mnt/x', frame })).toBe(expected);
  });

  test('reads exactly file_path and frame from the metadata', () => {
    expect(compileTemplate(SEED).variables).toEqual(['file_path', 'frame']);
  });
});
