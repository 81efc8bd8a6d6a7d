/**
 * Jinja2's built-in tests (`x is defined`, `n is divisibleby 3`, …), from `jinja2/tests.py`.
 */
import { PyFloat } from '../heros/values.js';
import { bindArgs, type Signature } from './py-args.js';
import { isFloat, isIntLike, isNumber } from './py-number.js';
import { PyCallable, PyIter, Undefined, isDict, pyRaise, type Kwargs, type Val } from './py-objects.js';
import { pyContains, pyEq, pyIterArray, pyLen, pyMod, pyOrder } from './py-ops.js';
import { pyStr } from './py-str.js';
import { pyIsLower, pyIsUpper } from './py-text.js';

/** A test: its signature after the tested value, and the predicate. */
export interface TestDef {
  readonly sig: Signature;
  readonly fn: (value: Val, args: Val[]) => boolean;
}

function def(name: string, params: string[], fn: (value: Val, args: Val[]) => boolean, defaults: Val[] = []): TestDef {
  return { sig: { name, params, defaults }, fn };
}

function iterable(v: Val): boolean {
  try {
    pyIterArray(v instanceof PyIter ? [] : v);
    return true;
  } catch {
    return false;
  }
}

function sequence(v: Val): boolean {
  // Python: len(v) works and v has __getitem__.
  if (v instanceof Undefined) return true;
  if (typeof v === 'string' || Array.isArray(v) || isDict(v) || v instanceof Uint8Array) return true;
  if (v instanceof PyIter || v instanceof Set) return false;
  try {
    pyLen(v);
  } catch {
    return false;
  }
  return !(v instanceof PyCallable);
}

const eq = def('eq', ['other'], (v, [o]) => pyEq(v, o as Val));
const ne = def('ne', ['other'], (v, [o]) => !pyEq(v, o as Val));
const gt = def('gt', ['other'], (v, [o]) => pyOrder('gt', v, o as Val));
const ge = def('ge', ['other'], (v, [o]) => pyOrder('gteq', v, o as Val));
const lt = def('lt', ['other'], (v, [o]) => pyOrder('lt', v, o as Val));
const le = def('le', ['other'], (v, [o]) => pyOrder('lteq', v, o as Val));

/** The tests by name; the filter/test registries are looked up through the two hooks. */
export const TESTS: Map<string, TestDef> = new Map<string, TestDef>([
  ['odd', def('test_odd', [], (v) => pyEq(pyMod(v, 2), 1))],
  ['even', def('test_even', [], (v) => pyEq(pyMod(v, 2), 0))],
  ['divisibleby', def('test_divisibleby', ['num'], (v, [n]) => pyEq(pyMod(v, n as Val), 0))],
  ['defined', def('test_defined', [], (v) => !(v instanceof Undefined))],
  ['undefined', def('test_undefined', [], (v) => v instanceof Undefined)],
  ['filter', def('test_filter', [], (v) => typeof v === 'string' && testHooks.hasFilter(v))],
  ['test', def('test_test', [], (v): boolean => typeof v === 'string' && TESTS.has(v))],
  ['none', def('test_none', [], (v) => v === null || v === undefined)],
  ['boolean', def('test_boolean', [], (v) => typeof v === 'boolean')],
  ['false', def('test_false', [], (v) => v === false)],
  ['true', def('test_true', [], (v) => v === true)],
  ['integer', def('test_integer', [], (v) => isIntLike(v) && typeof v !== 'boolean')],
  ['float', def('test_float', [], (v) => isFloat(v))],
  ['lower', def('test_lower', [], (v) => pyIsLower(pyStr(v)))],
  ['upper', def('test_upper', [], (v) => pyIsUpper(pyStr(v)))],
  ['string', def('test_string', [], (v) => typeof v === 'string')],
  ['mapping', def('test_mapping', [], (v) => isDict(v))],
  ['number', def('test_number', [], (v) => isNumber(v))],
  ['sequence', def('test_sequence', [], sequence)],
  ['iterable', def('test_iterable', [], (v) => v instanceof PyIter || iterable(v))],
  ['callable', def('callable', [], (v) => v instanceof PyCallable)],
  ['sameas', def('test_sameas', ['other'], (v, [o]) => sameAs(v, o as Val))],
  ['escaped', def('test_escaped', [], () => false)],
  ['in', def('test_in', ['seq'], (v, [s]) => pyContains(s as Val, v))],
  ['==', eq],
  ['eq', eq],
  ['equalto', eq],
  ['!=', ne],
  ['ne', ne],
  ['>', gt],
  ['gt', gt],
  ['greaterthan', gt],
  ['ge', ge],
  ['>=', ge],
  ['<', lt],
  ['lt', lt],
  ['lessthan', lt],
  ['<=', le],
  ['le', le],
]);

/**
 * Python `is`: the singletons (`None`, `True`, `False`) by value, small ints as CPython caches
 * them (-5…256), everything else by reference.
 */
function sameAs(a: Val, b: Val): boolean {
  if (a === null || a === undefined) return b === null || b === undefined;
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (typeof a === 'number' && typeof b === 'number' && Number.isInteger(a) && Number.isInteger(b)) {
    return a === b && a >= -5 && a <= 256;
  }
  // Float objects are never shared between two expressions in CPython.
  if (a instanceof PyFloat || b instanceof PyFloat) return a === b;
  if (typeof a === 'number' || typeof b === 'number') return false;
  if (typeof a === 'string' && typeof b === 'string') return a === b && a.length <= 1;
  return a === b;
}

/** Runs test `name` on `value` (used by `select`/`reject`); unknown names raise at run time. */
export function callTest(name: string, value: Val, args: readonly Val[], kwargs: Kwargs): boolean {
  const t = TESTS.get(name);
  if (t === undefined) {
    pyRaise('TemplateRuntimeError', `No test named '${name}' found.`);
  }
  const b = bindArgs(t.sig, args, kwargs);
  return t.fn(value, b.values);
}

/** Late-bound link to the filter registry (the `filter` test), set by the filters module. */
export const testHooks = { hasFilter: (_name: string): boolean => false };
