/**
 * Binding call arguments to a Python-style signature, for filters, tests, globals and the
 * methods of values (`'x'.replace(...)`), with CPython's TypeError messages.
 */
import { pyRaise, type Kwargs, type Val } from './py-objects.js';

/** A signature: parameter names, defaults for the trailing ones, and what extras it takes. */
export interface Signature {
  /** Name used in messages, e.g. `round` or `str.replace`. */
  readonly name: string;
  readonly params: readonly string[];
  /** Defaults of the last `defaults.length` parameters. */
  readonly defaults: readonly Val[];
  /** Collect surplus positional arguments (`*args`). */
  readonly varargs?: boolean;
  /** Collect unknown keyword arguments (`**kwargs`). */
  readonly varkw?: boolean;
  /** Reject keyword arguments entirely (most `str` methods). */
  readonly positionalOnly?: boolean;
}

/** The result of {@link bindArgs}. */
export interface Bound {
  /** One value per parameter (defaults filled in). */
  readonly values: Val[];
  /** Surplus positional arguments (only with `varargs`). */
  readonly rest: Val[];
  /** Surplus keyword arguments (only with `varkw`). */
  readonly kw: Map<string, Val>;
}

/** Binds `args`/`kwargs` to `sig` like a Python call, raising TypeError on a mismatch. */
export function bindArgs(sig: Signature, args: readonly Val[], kwargs: Kwargs): Bound {
  const { params, defaults } = sig;
  const required = params.length - defaults.length;
  const values: (Val | typeof UNSET)[] = new Array<Val | typeof UNSET>(params.length).fill(UNSET);
  const rest: Val[] = [];
  const kw = new Map<string, Val>();
  if (args.length > params.length && !sig.varargs) {
    const takes = required === params.length ? `${params.length}` : `from ${required} to ${params.length}`;
    pyRaise('TypeError', `${sig.name}() takes ${takes} positional argument${params.length === 1 ? '' : 's'} but ${args.length} were given`);
  }
  for (let i = 0; i < args.length; i++) {
    if (i < params.length) values[i] = args[i] as Val;
    else rest.push(args[i] as Val);
  }
  if (kwargs !== null && kwargs.size > 0) {
    if (sig.positionalOnly) pyRaise('TypeError', `${sig.name}() takes no keyword arguments`);
    for (const [k, v] of kwargs) {
      const i = params.indexOf(k);
      if (i < 0) {
        if (!sig.varkw) pyRaise('TypeError', `${sig.name}() got an unexpected keyword argument '${k}'`);
        kw.set(k, v);
      } else if (values[i] !== UNSET) {
        pyRaise('TypeError', `${sig.name}() got multiple values for argument '${k}'`);
      } else {
        values[i] = v;
      }
    }
  }
  for (let i = 0; i < params.length; i++) {
    if (values[i] !== UNSET) continue;
    if (i < required) pyRaise('TypeError', `${sig.name}() missing 1 required positional argument: '${params[i]}'`);
    values[i] = defaults[i - required] as Val;
  }
  return { values: values as Val[], rest, kw };
}

const UNSET: unique symbol = Symbol('unset');
