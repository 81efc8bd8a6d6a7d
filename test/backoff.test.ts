import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';

describe('backoff delays', () => {
  const opts = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };
  it('doubles per retry up to the cap, without jitter at random()=0', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('removes at most the jitter fraction', () => {
    expect(backoffDelay(3, opts, () => 0.999999)).toBe(200);
    expect(backoffDelay(1, { ...opts, jitter: 1 }, () => 0.5)).toBe(50);
  });
  it('treats retry numbers below 1 as the first retry', () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(100);
  });
});
