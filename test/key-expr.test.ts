import { describe, expect, it } from 'vitest';
import { keyExprMatches } from '../src/bus/key-expr.js';

describe('key-expression matching (memory bus)', () => {
  it.each([
    ['@object/heros/*/frame', '@object/heros/cam1/frame', true],
    ['@object/heros/*/frame', '@object/heros/a/b/frame', false],
    ['@object/heros/**/frame', '@object/heros/a/b/frame', true],
    ['@object/heros/cam$*/frame', '@object/heros/cam12/frame', true],
    ['@object/heros/cam$*/frame', '@object/heros/dog/frame', false],
    ['@object/heros/cam1/frame', '@object/heros/cam1/frame', true],
    ['**', '@object/heros/cam1/frame', false],
    ['*/heros/cam1/frame', '@object/heros/cam1/frame', false],
    ['@object/*/cam1/frame', '@object/lab2/cam1/frame', true],
  ])('%s matches %s: %s', (expr, key, expected) => {
    expect(keyExprMatches(expr, key)).toBe(expected);
  });
});
