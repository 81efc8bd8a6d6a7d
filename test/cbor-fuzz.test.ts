/**
 * decodeHeros on hostile input: whatever the bytes, it returns a value or throws the coded
 * ArchiverError, quickly, and encodeHeros/decodeHeros round-trip every value of the model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiverError } from '../src/errors.js';
import { decodeHeros, encodeHeros } from '../src/heros/cbor.js';
import { describeJs, sortKey } from './helpers/py-describe.js';
import { pyValue } from './helpers/py-value-arbitrary.js';

const SEED = 424242;

/** Runs decodeHeros; true when it returned, false on the coded error, throws on anything else. */
function decodesOrCodedError(bytes: Uint8Array): boolean {
  try {
    decodeHeros(bytes);
    return true;
  } catch (err) {
    if (err instanceof ArchiverError && err.code === 'ARCHIVER_DECODE_FAILED') return false;
    throw err;
  }
}

function expectDecodeFailure(bytes: Uint8Array): ArchiverError {
  try {
    decodeHeros(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ArchiverError);
    expect((err as ArchiverError).code).toBe('ARCHIVER_DECODE_FAILED');
    return err as ArchiverError;
  }
  throw new Error('decodeHeros accepted the input');
}

describe('decodeHeros on random input', () => {
  it('returns a value or throws ARCHIVER_DECODE_FAILED for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        decodesOrCodedError(bytes);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
  });

  it('returns a value or throws ARCHIVER_DECODE_FAILED for damaged valid messages', () => {
    const damaged = fc
      .tuple(pyValue(3), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([value, flips, cut]) => {
        const bytes = encodeHeros(value).slice();
        for (const [at, byte] of flips) if (bytes.length > 0) bytes[at % bytes.length] = byte;
        return bytes.subarray(0, bytes.length === 0 ? 0 : bytes.length - (cut % 3));
      });
    fc.assert(
      fc.property(damaged, (bytes) => {
        decodesOrCodedError(bytes);
      }),
      { seed: SEED, numRuns: 3_000 },
    );
  });

  it('round-trips every value of the model', () => {
    fc.assert(
      fc.property(pyValue(4), (value) => {
        const decoded = decodeHeros(encodeHeros(value));
        expect(sortKey(describeJs(decoded))).toBe(sortKey(describeJs(value)));
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it.each([
    ['definite arrays', 0x81],
    ['indefinite arrays', 0x9f],
    ['single-entry maps', 0xa1],
    ['tags', 0xc6],
  ])('rejects 100000 nested %s without overflowing the stack', (_name, byte) => {
    const started = performance.now();
    const err = expectDecodeFailure(new Uint8Array(100_000).fill(byte));
    expect(err.message).toMatch(/maxDepth/);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it.each([
    ['byte string', '5bffffffffffffffff00'],
    ['byte string of 2^32', '5b000000010000000000'],
    ['text string', '7b7fffffffffffffff61'],
    ['array', '9bffffffffffffffff00'],
    ['array of 2^32-1', '9affffffff00'],
    ['map', 'bbffffffffffffffff00'],
    ['map of 2^31', 'ba8000000000'],
    ['ndarray data', 'd9109283810146756e696e74385affffffff'],
    ['string chunk', '5f5affffffff00ff'],
  ])('rejects a huge declared %s length in a short message at once', (_name, hexInput) => {
    const started = performance.now();
    const err = expectDecodeFailure(new Uint8Array(Buffer.from(hexInput, 'hex')));
    expect(err.message).toMatch(/exceeds|end of input/);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
