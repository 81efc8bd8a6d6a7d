/**
 * Python source shared by the `.npy` differential tests: the dtypes, structured dtypes and
 * shapes of the corpus, and `make(dtype, shape)`, which fills an array with values that reach
 * the awkward corners (NaN, NaT, empty strings, trailing NULs, non-BMP characters).
 */
export const NPY_CORPUS_PRELUDE = String.raw`
import base64, io, json, sys, warnings
import numpy as np
warnings.simplefilter('ignore')  # numpy warns when it has to use format 2.0 or 3.0

def b64(b):
    return base64.b64encode(b).decode()

def save(a):
    f = io.BytesIO()
    np.save(f, a)
    return f.getvalue()

SIMPLE = ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
          'float16', 'float32', 'float64', 'float128', 'complex64', 'complex128', 'complex256',
          '>u2', '>i4', '>i8', '>f2', '>f8', '>c8', '>c16', '<U5', '>U5', '|S3', '|V4', '<U0', '|S0',
          'datetime64[ns]', 'timedelta64[s]', '>M8[ms]', 'M8', 'M8[10us]', 'm8[Y]']
inner_aligned = np.dtype([('x', 'i1'), ('h', [('p', 'u1'), ('q', '<u4')]), ('y', 'c8')], align=True)
STRUCTS = {
    'flat': np.dtype([('a', '<i4'), ('b', '<f8')]),
    'mixed': np.dtype([('a', '?'), ('b', '>i4'), ('c', 'i1'), ('d', '<U3'), ('e', '<f8', (2, 3)),
                       ('f', '<M8[ns]'), ('g', [('x', 'u1'), ('y', '>f4')]), ('h', 'S2'), ('i', '>c8'),
                       ('j', 'V3'), ('k', '?', (2,))]),
    'offsets': np.dtype({'names': ['a', 'b'], 'formats': ['<i4', '<f8'], 'offsets': [0, 8], 'itemsize': 24}),
    'aligned': np.dtype([('a', 'i1'), ('b', '<f8'), ('c', '<u2'), ('d', 'S3'), ('e', '<U2'), ('f', 'f2')], align=True),
    'aligned-nested': np.dtype([('a', 'u1'), ('g', inner_aligned, (2,)), ('z', '<u2')], align=True),
    'aligned-nested-packed': np.dtype([('a', 'u1'), ('g', [('x', 'i1'), ('y', 'f8')]), ('z', 'u2')], align=True),
    'aligned-propagated': np.dtype([('a', 'u1'), ('g', [('x', 'i1'), ('y', 'f8')])], align=True),
    'dict-subarray': np.dtype({'names': ['a', 'b'], 'formats': [('<f4', (2,)), 'u1'], 'offsets': [0, 16], 'itemsize': 20}),
    'titles': np.dtype([(('Title', 'a'), 'i1'), ('b', '<f8')]),
    'dict-titles': np.dtype({'names': ['a', 'b'], 'formats': ['u1', 'u1'], 'offsets': [0, 1],
                             'titles': ['T', None], 'itemsize': 4}),
    'escaped-names': np.dtype([("it's", '<i4'), ('a"b', 'u1'), ("q'\"", 'u1'), ('\u00e9\u00a0\u00ad', '<f4'),
                               ('\x01\n\t\\', '<i2'), ('\u2028', 'u1')]),
    'non-latin1': np.dtype([('\u4e2d\u6587', '<i4'), ('\U0001f600', 'u1'), ('x', 'f8')]),
    'empty-struct': np.dtype([]),
    'version-2': np.dtype([('field_%05d' % i, '<f4') for i in range(4000)]),
}
SHAPES = [(), (0,), (5,), (3, 4), (2, 3, 4), (2, 0, 3), (1,) * 10, (1, 5), (5, 1), (1, 4, 6)]
FEW_SHAPES = [(), (3,), (2, 2)]
TEXT = ['', 'a', 'h\u00e9llo', '\U0001f600x', 'abcde', 'a\x00b', 'xy\x00']
BYTES = [b'', b'x', b'abc', b'\x00\xff', b'a\x00']

def make(dt, shape):
    n = int(np.prod(shape))
    k = dt.kind
    i = np.arange(n)
    if dt.itemsize == 0:
        return np.zeros(shape, dt)
    if dt.names is not None or k == 'V':
        raw = np.random.default_rng(n).integers(0, 50, n * dt.itemsize, dtype=np.uint8).tobytes()
        return np.frombuffer(raw, dtype=dt).reshape(shape).copy()
    if k == 'b':
        flat = i % 3 == 1
    elif k == 'i':
        flat = (i * 37) % 120 - 60
    elif k == 'u':
        flat = (i * 37) % 250
    elif k == 'f':
        flat = i * 1.25 - 3
        if n >= 3:
            flat[1], flat[2] = np.nan, -np.inf
    elif k == 'c':
        flat = i * 0.5 + 1j * (i - 2)
    elif k == 'U':
        flat = np.array([TEXT[j % len(TEXT)] for j in range(n)], dtype=object)
    elif k == 'S':
        flat = np.array([BYTES[j % len(BYTES)] for j in range(n)], dtype=object)
    else:
        flat = i * 1000 - 5
        a = flat.astype(dt)
        if n >= 2:
            a[1] = np.datetime64('NaT') if k == 'M' else np.timedelta64('NaT')
        return a.reshape(shape)
    return np.asarray(flat).astype(dt).reshape(shape)

`;
