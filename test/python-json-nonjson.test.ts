import { describe, expect, it } from 'vitest';
import { ArchiverError, UnrecoverableError } from '../src/errors.js';
import { pyJsonDumps } from '../src/formats/python-json.js';
import { HeroRef, NdArray, PyDateTime, PyFloat, Tagged, type PyValue } from '../src/heros/values.js';

const image = new NdArray('uint8', [2], new Uint8Array([1, 2]));
const when = new PyDateTime('2024-05-01T12:30:00.250000+00:00', 1714566600.25);

function rejected(value: PyValue, rootPath?: string): UnrecoverableError {
  try {
    pyJsonDumps(value, { nonJson: 'reject', ...(rootPath === undefined ? {} : { rootPath }) });
  } catch (err) {
    expect(err).toBeInstanceOf(UnrecoverableError);
    return err as UnrecoverableError;
  }
  throw new Error('expected pyJsonDumps to reject the value');
}

describe("nonJson: 'reject' throws where Python's json raises", () => {
  it.each([
    ['an ndarray in a list', { images: [1, 2, image] }, 'payload.images[2]', 'ndarray'],
    ['bytes under a key that is not an identifier', { meta: { 'raw data': new Uint8Array([0]) } }, 'payload.meta["raw data"]', 'bytes'],
    ['a set at the root', new Set([1, 2]), 'payload', 'set'],
    ['a datetime under an int key', { readings: new Map<PyValue, PyValue>([[3, when]]) }, 'payload.readings[3]', 'datetime'],
    ['a HERO reference', [[new HeroRef('realm', 'cam')]], 'payload[0][0]', 'HERO reference'],
    ['a CBOR tag', { x: new Tagged(1234, 'v') }, 'payload.x', 'CBORTag(1234)'],
    ['undefined', { a: undefined }, 'payload.a', 'undefined'],
    ['a tuple dict key', { m: new Map<PyValue, PyValue>([[[1, 2], 'v']]) }, 'payload.m', 'not tuple'],
    ['a bytes dict key', new Map<PyValue, PyValue>([[new Uint8Array([1]), 'v']]), 'payload', 'not bytes'],
  ])('%s', (_name, value, path, typeName) => {
    const err = rejected(value);
    expect(err.code).toBe('ARCHIVER_PAYLOAD_MISMATCH');
    expect(err.retryable).toBe(false);
    expect(err.path).toBe(path);
    expect(err.message).toContain(path);
    expect(err.message).toContain(typeName);
  });

  it('names the root as told', () => {
    expect(rejected({ a: [image] }, 'event').path).toBe('event.a[0]');
  });

  it('accepts every key type Python coerces', () => {
    const keys = new Map<PyValue, PyValue>([[1, 'a'], [new PyFloat(2), 'b'], [0.5, 'c'], [true, 'd'], [null, 'e'], [2n ** 70n, 'f']]);
    expect(pyJsonDumps(keys, { nonJson: 'reject', indent: null })).toBe(
      '{"1": "a", "2.0": "b", "0.5": "c", "true": "d", "null": "e", "1180591620717411303424": "f"}',
    );
  });
});

describe("nonJson: 'represent' (the default) writes documented stand-ins", () => {
  const line = (v: PyValue): string => pyJsonDumps(v, { indent: null });

  it('writes bytes as base64 under $bytes', () => {
    expect(line(new Uint8Array([0, 1, 2, 255]))).toBe('{"$bytes": "AAEC/w=="}');
    expect(line(new Uint8Array(0))).toBe('{"$bytes": ""}');
    const view = new Uint8Array([9, 9, 104, 105, 9]).subarray(2, 4);
    expect(line(view)).toBe('{"$bytes": "aGk="}');
  });

  it('writes a set as a list in received order', () => {
    expect(line(new Set<PyValue>(['b', 1, new PyFloat(2)]))).toBe('["b", 1, 2.0]');
    expect(line(new Set())).toBe('[]');
  });

  it('writes a datetime as its ISO text', () => {
    expect(line({ t: when })).toBe('{"t": "2024-05-01T12:30:00.250000+00:00"}');
  });

  it('writes a HERO reference under $hero', () => {
    expect(pyJsonDumps(new HeroRef('lab', 'cam-\u00e9'))).toBe(
      '{\n    "$hero": {\n        "realm": "lab",\n        "name": "cam-\\u00e9"\n    }\n}',
    );
  });

  it('writes another CBOR tag as $tag and value, recursing into the value', () => {
    expect(line(new Tagged(1234, [1, new Uint8Array([1])]))).toBe('{"$tag": 1234, "value": [1, {"$bytes": "AQ=="}]}');
    expect(line(new Tagged(2n ** 64n, null))).toBe('{"$tag": 18446744073709551616, "value": null}');
  });

  it('writes undefined as null', () => {
    expect(line([undefined, 1])).toBe('[null, 1]');
  });

  it('writes an ndarray as its nested lists', () => {
    expect(line({ img: image })).toBe('{"img": [1, 2]}');
  });

  it('writes other dict keys as their stand-in, as one-line JSON unless it is a string', () => {
    const m = new Map<PyValue, PyValue>([
      [[1, new PyFloat(2)], 'tuple'],
      [when, 'datetime'],
      [new Uint8Array([0]), 'bytes'],
      [new HeroRef('r', 'n'), 'hero'],
    ]);
    expect(line(m)).toBe(
      '{"[1, 2.0]": "tuple", "2024-05-01T12:30:00.250000+00:00": "datetime", ' +
        '"{\\"$bytes\\": \\"AA==\\"}": "bytes", "{\\"$hero\\": {\\"realm\\": \\"r\\", \\"name\\": \\"n\\"}}": "hero"}',
    );
  });

  it('reports an ndarray it cannot read with its dtype code and path', () => {
    const bad = new NdArray('object', [1], new Uint8Array(8));
    let caught: unknown;
    try {
      pyJsonDumps({ frames: [bad] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ArchiverError);
    expect((caught as ArchiverError).code).toBe('ARCHIVER_UNSUPPORTED_DTYPE');
    expect((caught as ArchiverError).path).toBe('payload.frames[0]');
  });

  it('rejects JavaScript values outside the value model in both modes', () => {
    for (const nonJson of ['represent', 'reject'] as const) {
      expect(() => pyJsonDumps({ d: new Date(0) } as unknown as PyValue, { nonJson })).toThrow(UnrecoverableError);
      expect(() => pyJsonDumps([() => 1] as unknown as PyValue, { nonJson })).toThrow(UnrecoverableError);
    }
  });
});
