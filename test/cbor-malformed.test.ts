/**
 * decodeHeros refuses bytes that are not exactly one well-formed CBOR item, with the coded
 * error and the byte offset, and reads the float and integer edge cases exactly.
 */
import { describe, expect, it } from 'vitest';
import { ArchiverError } from '../src/errors.js';
import { decodeHeros } from '../src/heros/cbor.js';
import { PyFloat, Tagged } from '../src/heros/values.js';

function bytes(hexInput: string): Uint8Array {
  return new Uint8Array(Buffer.from(hexInput.replace(/\s/g, ''), 'hex'));
}

describe('decodeHeros on malformed bytes', () => {
  it.each([
    ['empty input', '', /byte 0: unexpected end/],
    ['truncated uint16', '1901', /byte 0: unexpected end/],
    ['truncated double', 'fb3ff00000', /byte 0: unexpected end/],
    ['array longer than the input', '8301', /byte 0: declared length 3 exceeds the 1 bytes left/],
    ['truncated array item', '821901', /byte 1: unexpected end/],
    ['truncated text', '6361', /byte 0: declared length 3 exceeds/],
    ['unterminated indefinite array', '9f01', /indefinite-length array/],
    ['unterminated indefinite string', '5f4101', /indefinite-length string/],
    ['trailing bytes', '0000', /byte 1: 1 trailing bytes/],
    ['reserved additional information 28', '1c', /byte 0: reserved additional information 28/],
    ['reserved additional information 30 in a float', 'fe', /reserved additional information 30/],
    ['indefinite integer', '1f', /indefinite length is not allowed for major type 0/],
    ['indefinite tag', 'df', /indefinite length is not allowed for major type 6/],
    ['lone break', 'ff', /byte 0: unexpected break/],
    ['break in a definite array', '81ff', /byte 1: unexpected break/],
    ['break instead of a map value', 'bf6161ff', /byte 3: unexpected break/],
    ['integer chunk in an indefinite byte string', '5f01ff', /same type/],
    ['text chunk in an indefinite byte string', '5f6161ff', /same type/],
    ['nested indefinite chunk', '7f7fffff', /same type/],
    ['invalid UTF-8', '62c328', /invalid UTF-8/],
    ['UTF-8 split across chunks', '7f61c361a9ff', /invalid UTF-8/],
    ['overlong UTF-8', '62c0af', /invalid UTF-8/],
    ['UTF-8 surrogate', '63eda080', /invalid UTF-8/],
    ['two-byte simple value below 32', 'f814', /not well-formed/],
    ['unassigned simple value', 'f0', /unsupported simple value 16/],
    ['two-byte simple value', 'f8ff', /unsupported simple value 255/],
  ])('rejects %s', (_name, hexInput, message) => {
    let caught: unknown;
    try {
      decodeHeros(bytes(hexInput));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ArchiverError);
    expect((caught as ArchiverError).code).toBe('ARCHIVER_DECODE_FAILED');
    expect((caught as ArchiverError).message).toMatch(message);
  });

  it('enforces maxDepth, maxItems and maxBytes', () => {
    expect(() => decodeHeros(bytes('818180'), { maxDepth: 2 })).toThrow(/maxDepth 2/);
    expect(decodeHeros(bytes('818180'), { maxDepth: 3 })).toEqual([[[]]]);
    expect(() => decodeHeros(bytes('83010203'), { maxItems: 3 })).toThrow(/maxItems 3/);
    expect(() => decodeHeros(bytes('9f010203ff'), { maxItems: 3 })).toThrow(/maxItems 3/);
    expect(() => decodeHeros(bytes('a2010203 04'), { maxItems: 4 })).toThrow(/maxItems 4/);
    expect(() => decodeHeros(bytes('83010203'), { maxBytes: 3 })).toThrow(/maxBytes 3/);
  });

  it('throws only the coded error for a non-Uint8Array argument', () => {
    expect(() => decodeHeros('abc' as unknown as Uint8Array)).toThrow(ArchiverError);
  });
});

describe('decodeHeros on edge values', () => {
  it.each([
    ['f90001', 2 ** -24],
    ['f903ff', 1023 * 2 ** -24],
    ['f90400', 2 ** -14],
    ['f93555', 0.333251953125],
    ['f9c100', -2.5],
    ['fa00000001', 2 ** -149],
    ['fb0000000000000001', 5e-324],
  ])('reads the non-whole float %s exactly', (hexInput, expected) => {
    expect(decodeHeros(bytes(hexInput))).toBe(expected);
  });

  it.each([
    ['f93c00', 1],
    ['f97bff', 65504],
    ['f98000', -0],
    ['f90000', 0],
    ['fa47c35000', 100000],
    ['fb4330000000000000', 2 ** 52],
  ])('reads the whole float %s as a PyFloat', (hexInput, expected) => {
    const value = decodeHeros(bytes(hexInput));
    expect(value).toBeInstanceOf(PyFloat);
    expect(Object.is((value as PyFloat).value, expected)).toBe(true);
  });

  it('reads infinities and NaN of every width as plain numbers', () => {
    for (const h of ['f97c00', 'fa7f800000', 'fb7ff0000000000000']) expect(decodeHeros(bytes(h))).toBe(Infinity);
    for (const h of ['f9fc00', 'faff800000', 'fbfff0000000000000']) expect(decodeHeros(bytes(h))).toBe(-Infinity);
    for (const h of ['f97e00', 'f97c01', 'fa7fc00000', 'fb7ff8000000000001']) expect(decodeHeros(bytes(h))).toBeNaN();
  });

  it.each([
    ['1b001fffffffffffff', 2 ** 53 - 1],
    ['1b0020000000000000', 2n ** 53n],
    ['1bffffffffffffffff', 2n ** 64n - 1n],
    ['3b001ffffffffffffe', -(2 ** 53 - 1)],
    ['3b001fffffffffffff', -(2n ** 53n)],
    ['3bffffffffffffffff', -(2n ** 64n)],
    ['c249010000000000000000', 2n ** 64n],
    ['c349010000000000000000', -(2n ** 64n) - 1n],
    ['c2490000000000000000ff', 255],
    ['c3420100', -257],
    ['c240', 0],
  ])('reads the integer %s as a number when safe, else a bigint', (hexInput, expected) => {
    expect(decodeHeros(bytes(hexInput))).toBe(expected);
  });

  it('keeps tags whose content is not what the tag needs as Tagged', () => {
    for (const h of ['c26161', 'c0f5', 'c1fb7ff8000000000000', 'c11b0000010000000000', 'd9232881616a', 'd901020a', 'd9109283800000', 'd910928381034475696e744400000000']) {
      expect(decodeHeros(bytes(h))).toBeInstanceOf(Tagged);
    }
  });
});
