import { describe, it, expect } from 'vitest';
import { itemSize, npyDescr } from '../src/formats/npy.js';

describe('npyDescr spells dtypes as numpy writes them', () => {
  it.each([
    ['bool', "'|b1'", 1],
    ['?', "'|b1'", 1],
    ['int8', "'|i1'", 1],
    ['>i1', "'|i1'", 1],
    ['uint8', "'|u1'", 1],
    ['int16', "'<i2'", 2],
    ['uint64', "'<u8'", 8],
    ['float16', "'<f2'", 2],
    ['float128', "'<f16'", 16],
    ['complex64', "'<c8'", 8],
    ['complex256', "'<c32'", 32],
    ['>u2', "'>u2'", 2],
    ['<f8', "'<f8'", 8],
    ['=i4', "'<i4'", 4],
    ['<U5', "'<U5'", 20],
    ['>U5', "'>U5'", 20],
    ['|S3', "'|S3'", 3],
    ['<S3', "'|S3'", 3],
    ['|V8', "'|V8'", 8],
    ['datetime64', "'<M8'", 8],
    ['datetime64[ns]', "'<M8[ns]'", 8],
    ['datetime64[1ns]', "'<M8[ns]'", 8],
    ['datetime64[10ms]', "'<M8[10ms]'", 8],
    ['timedelta64[s]', "'<m8[s]'", 8],
    ['>M8[us]', "'>M8[us]'", 8],
    ["[('a', '<i4'), ('b', '<f8')]", "[('a', '<i4'), ('b', '<f8')]", 12],
    ["[('a', '?', (3,)), ('b', 'i1')]", "[('a', '|b1', (3,)), ('b', '|i1')]", 4],
    ["[(\"it's\", 'u1')]", "[(\"it's\", '|u1')]", 1],
    ["{'names': ['a'], 'formats': ['u1'], 'offsets': [2], 'itemsize': 4}", "[('', '|V2'), ('a', '|u1'), ('', '|V1')]", 4],
  ])('%s → %s (%i bytes)', (dtype, descr, size) => {
    expect(npyDescr(dtype)).toBe(descr);
    expect(itemSize(dtype)).toBe(size);
  });
});
