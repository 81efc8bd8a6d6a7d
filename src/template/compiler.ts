/**
 * Compiles the syntax tree once into nested closures; rendering then only runs closures (no
 * parsing, no regex compilation, no `eval`). Scoping follows Jinja2: `{% set %}` at top level
 * or inside `{% if %}` binds in the template scope; a `{% for %}` body gets a fresh scope per
 * iteration (assignments do not leak out, nor into the next iteration); `{% with %}` and block
 * `{% set %}` bodies get their own scope.
 *
 * Like Jinja2's compiler, an unknown filter or test is a compile error unless it sits inside an
 * `{% if %}` or an inline `if` expression, where it only fails when reached.
 */
import { bindArgs, type Bound, type Signature } from './py-args.js';
import type { CallArgs, Expr, Stmt } from './ast.js';
import { FILTERS, UNSUPPORTED_FILTERS } from './jinja-filters.js';
import { TESTS } from './jinja-tests.js';
import { TemplateSyntaxError, type Positions } from './lexer.js';
import {
  LoopContext,
  NOT_FOUND,
  Namespace,
  PyCallable,
  PyRange,
  PyTuple,
  Undefined,
  isDict,
  pyRaise,
  pyTypeName,
  undefinedName,
  type Kwargs,
  type Val,
} from './py-objects.js';
import {
  PySlice,
  dictEntries,
  jinjaGetattr,
  jinjaGetitem,
  namespaceSet,
  pyAdd,
  pyBool,
  pyCall,
  pyConcat,
  pyContains,
  pyEq,
  pyIterArray,
  pyMod,
  pyMul,
  pyNeg,
  pyNumOp,
  pyOrder,
  pyPos,
  pySubscript,
  requireIndex,
} from './py-ops.js';
import { pyStr } from './py-str.js';

/** Looks a name up in the render context; NOT_FOUND when absent. */
export type ContextLookup = (name: string) => Val | typeof NOT_FOUND;

/** A variable scope at render time. */
export class Frame {
  vars: Map<string, Val> | null = null;
  readonly parent: Frame | null;
  readonly ctx: ContextLookup;
  constructor(parent: Frame | null, ctx: ContextLookup) {
    this.parent = parent;
    this.ctx = ctx;
  }
  set(name: string, value: Val): void {
    (this.vars ??= new Map()).set(name, value);
  }
}

type Ev = (fr: Frame) => Val;
type Run = (fr: Frame) => string;

/** The compiled template body plus what it reads from the context. */
export interface CompiledBody {
  readonly run: Run;
  readonly variables: readonly string[];
}

function lookup(fr: Frame, name: string): Val {
  for (let f: Frame | null = fr; f !== null; f = f.parent) {
    const vars = f.vars;
    if (vars !== null) {
      const v = vars.get(name);
      if (v !== undefined || vars.has(name)) return v as Val;
    }
  }
  return fromContext(fr, name);
}

function fromContext(fr: Frame, name: string): Val {
  const v = fr.ctx(name);
  if (v !== NOT_FOUND) return v;
  const g = GLOBALS.get(name);
  return g === undefined ? undefinedName(name) : g;
}

function rangeOf(args: Val[], kwargs: Kwargs): PyRange {
  if (kwargs !== null && kwargs.size > 0) pyRaise('TypeError', 'range() takes no keyword arguments');
  if (args.length === 0 || args.length > 3) pyRaise('TypeError', `range expected at most 3 arguments, got ${args.length}`);
  const ints = args.map((a) => {
    const i = requireIndex(a, '');
    if (!Number.isSafeInteger(i)) pyRaise('OverflowError', 'range() arguments are too large for a template');
    return i;
  });
  const [start, stop, step] = ints.length === 1 ? [0, ints[0] as number, 1] : [ints[0] as number, ints[1] as number, ints[2] ?? 1];
  if (step === 0) pyRaise('ValueError', 'range() arg 3 must not be zero');
  return new PyRange(start, stop, step);
}

function dictOf(args: Val[], kwargs: Kwargs): Map<Val, Val> {
  if (args.length > 1) pyRaise('TypeError', `dict expected at most 1 argument, got ${args.length}`);
  const out = new Map<Val, Val>();
  const first = args[0];
  if (first !== undefined) {
    if (isDict(first)) for (const [k, v] of dictEntries(first)) out.set(k, v);
    else {
      pyIterArray(first).forEach((item, i) => {
        const pair = pyIterArray(item);
        if (pair.length !== 2) {
          pyRaise('ValueError', `dictionary update sequence element #${i} has length ${pair.length}; 2 is required`);
        }
        setKey(out, pair[0] as Val, pair[1] as Val);
      });
    }
  }
  if (kwargs !== null) for (const [k, v] of kwargs) setKey(out, k, v);
  return out;
}

/** Sets a dict key with Python's key equality (`1` and `1.0` are one key). */
function setKey(d: Map<Val, Val>, k: Val, v: Val): void {
  if (typeof k !== 'string') {
    for (const existing of d.keys()) {
      if (typeof existing !== 'string' && pyEq(existing, k)) {
        d.set(existing, v);
        return;
      }
    }
  }
  d.set(k, v);
}

/** Jinja2's default globals (`lipsum` and `cycler` are not provided). */
const GLOBALS = new Map<string, Val>([
  ['range', new PyCallable('range', rangeOf, "<class 'range'>")],
  ['dict', new PyCallable('dict', dictOf, "<class 'dict'>")],
  ['namespace', new PyCallable('namespace', (a, k) => new Namespace(new Map([...dictOf(a, k)].map(([x, y]) => [pyStr(x), y]))), "<class 'jinja2.utils.Namespace'>")],
  ['joiner', new PyCallable('joiner', (a, k) => {
    const sep = bindArgs({ name: 'Joiner', params: ['sep'], defaults: [', '] }, a, k).values[0] as Val;
    let used = false;
    return new PyCallable('joiner', () => {
      if (!used) {
        used = true;
        return '';
      }
      return sep;
    }, '<jinja2.utils.Joiner object>');
  }, "<class 'jinja2.utils.Joiner'>")],
]);

/** Compile-time context: scopes for name resolution and the `soft` flag for filters. */
interface CompileScope {
  readonly names: Set<string>;
  readonly parent: CompileScope | null;
}

class Compiler {
  readonly #positions: Positions;
  readonly #assigned = new Set<string>();
  readonly #variables = new Set<string>();
  #scope: CompileScope = { names: new Set(), parent: null };

  constructor(positions: Positions, body: Stmt[]) {
    this.#positions = positions;
    collectAssigned(body, this.#assigned);
  }

  #fail(message: string, pos: number): never {
    const { line, column } = this.#positions.at(pos);
    throw new TemplateSyntaxError(message, line, column);
  }

  get variables(): string[] {
    return [...this.#variables];
  }

  #bound(name: string): boolean {
    for (let s: CompileScope | null = this.#scope; s !== null; s = s.parent) if (s.names.has(name)) return true;
    return false;
  }

  #withScope<T>(f: () => T): T {
    const saved = this.#scope;
    this.#scope = { names: new Set(), parent: saved };
    try {
      return f();
    } finally {
      this.#scope = saved;
    }
  }

  #bindTargets(target: Expr): void {
    if (target.kind === 'name') this.#scope.names.add(target.name);
    else if (target.kind === 'tuple') target.items.forEach((t) => this.#bindTargets(t));
  }

  block(stmts: Stmt[], soft: boolean): Run {
    const runs = stmts.map((s) => this.stmt(s, soft));
    if (runs.length === 0) return () => '';
    if (runs.length === 1) return runs[0] as Run;
    return (fr) => {
      let out = '';
      for (const r of runs) out += r(fr);
      return out;
    };
  }

  stmt(s: Stmt, soft: boolean): Run {
    switch (s.kind) {
      case 'output':
        return this.#output(s.nodes, soft);
      case 'if': {
        const branches = s.branches.map((b) => ({ test: this.expr(b.test, true), body: this.block(b.body, true) }));
        const else_ = this.block(s.else_, true);
        return (fr) => {
          for (const b of branches) if (pyBool(b.test(fr))) return b.body(fr);
          return else_(fr);
        };
      }
      case 'for':
        return this.#for(s, soft);
      case 'assign': {
        const value = this.expr(s.value, soft);
        const assign = this.#assigner(s.target, soft);
        this.#bindTargets(s.target);
        return (fr) => {
          assign(fr, value(fr));
          return '';
        };
      }
      case 'assignblock': {
        const body = this.#withScope(() => this.block(s.body, false));
        const filter = s.filter === null ? null : this.#withScope(() => this.#filterChain(s.filter as Expr, false));
        const assign = this.#assigner(s.target, soft);
        this.#bindTargets(s.target);
        return (fr) => {
          const inner = new Frame(fr, fr.ctx);
          const text = body(inner);
          assign(fr, filter === null ? text : filter(inner, text));
          return '';
        };
      }
      case 'with': {
        const values = s.values.map((v) => this.expr(v, soft));
        return this.#withScope(() => {
          const assigns = s.targets.map((t) => this.#assigner(t, false));
          s.targets.forEach((t) => this.#bindTargets(t));
          const body = this.block(s.body, false);
          return (fr) => {
            const inner = new Frame(fr, fr.ctx);
            values.forEach((v, i) => (assigns[i] as (f: Frame, x: Val) => void)(inner, v(fr)));
            return body(inner);
          };
        });
      }
      case 'filterblock': {
        const body = this.#withScope(() => this.block(s.body, false));
        const filter = this.#withScope(() => this.#filterChain(s.filter, false));
        return (fr) => {
          const inner = new Frame(fr, fr.ctx);
          return pyStr(filter(inner, body(inner)));
        };
      }
    }
  }

  #output(nodes: (string | Expr)[], soft: boolean): Run {
    const parts = nodes.map((n): string | Ev => {
      if (typeof n === 'string') return n;
      const ev = this.expr(n, soft);
      const c = constOf(n);
      return c === NOT_FOUND ? ev : pyStr(c);
    });
    // Merge adjacent constant text so a render does as few concatenations as possible.
    const merged: (string | Ev)[] = [];
    for (const p of parts) {
      const last = merged[merged.length - 1];
      if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
      else merged.push(p);
    }
    if (merged.length === 1 && typeof merged[0] === 'string') {
      const text = merged[0];
      return () => text;
    }
    return (fr) => {
      let out = '';
      for (const p of merged) {
        if (typeof p === 'string') out += p;
        else {
          const v = p(fr);
          out += typeof v === 'string' ? v : pyStr(v);
        }
      }
      return out;
    };
  }

  #for(s: Extract<Stmt, { kind: 'for' }>, soft: boolean): Run {
    const iter = this.expr(s.iter, soft);
    // Jinja2 compiles the loop body, its filter and its else branch in a fresh (non-soft) frame.
    const else_ = this.block(s.else_, false);
    const { body, test, assign } = this.#withScope(() => {
      const assign = this.#assigner(s.target, false);
      this.#bindTargets(s.target);
      this.#scope.names.add('loop');
      const test = s.test === null ? null : this.expr(s.test, false);
      const body = this.block(s.body, false);
      return { body, test, assign };
    });
    return (fr) => {
      let items = pyIterArray(iter(fr));
      if (test !== null) {
        items = items.filter((item) => {
          const f = new Frame(fr, fr.ctx);
          assign(f, item);
          return pyBool(test(f));
        });
      }
      if (items.length === 0) return else_(fr);
      const loop = new LoopContext(items);
      let out = '';
      for (let i = 0; i < items.length; i++) {
        loop.index0 = i;
        const f = new Frame(fr, fr.ctx);
        f.set('loop', loop);
        assign(f, items[i] as Val);
        out += body(f);
      }
      return out;
    };
  }

  #assigner(target: Expr, soft: boolean): (fr: Frame, value: Val) => void {
    if (target.kind === 'name') {
      const name = target.name;
      return (fr, v) => fr.set(name, v);
    }
    if (target.kind === 'nsref') {
      const { name, attr } = target;
      return (fr, v) => namespaceSet(lookup(fr, name), attr, v);
    }
    if (target.kind === 'tuple') {
      const parts = target.items.map((t) => this.#assigner(t, soft));
      const n = parts.length;
      return (fr, v) => {
        const items = pyIterArray(v);
        if (items.length < n) pyRaise('ValueError', `not enough values to unpack (expected ${n}, got ${items.length})`);
        if (items.length > n) pyRaise('ValueError', `too many values to unpack (expected ${n})`);
        parts.forEach((p, i) => p(fr, items[i] as Val));
      };
    }
    return this.#fail(`can't assign to '${target.kind}'`, target.pos);
  }

  /** Compiles `{% set x | f %}` / `{% filter f %}` chains: the innermost node is the body text. */
  #filterChain(node: Expr, soft: boolean): (fr: Frame, input: Val) => Val {
    if (node.kind !== 'filter') return this.#fail('expected a filter', node.pos);
    const apply = this.#filterApply(node, soft);
    if (node.node === null) return (fr, input) => apply(fr, input);
    const inner = this.#filterChain(node.node, soft);
    return (fr, input) => apply(fr, inner(fr, input));
  }

  expr(e: Expr, soft: boolean): Ev {
    const c = constOf(e);
    if (c !== NOT_FOUND) return () => c;
    const ev = this.#exprInner(e, soft);
    return ev;
  }

  #exprInner(e: Expr, soft: boolean): Ev {
    switch (e.kind) {
      case 'const': {
        const v = e.value;
        return () => v;
      }
      case 'name': {
        const name = e.name;
        if (!this.#bound(name)) this.#variables.add(name);
        if (!this.#assigned.has(name) && !this.#bound(name)) return (fr) => fromContext(fr, name);
        return (fr) => lookup(fr, name);
      }
      case 'tuple': {
        const items = e.items.map((x) => this.expr(x, soft));
        return (fr) => new PyTuple(items.map((x) => x(fr)));
      }
      case 'list': {
        const items = e.items.map((x) => this.expr(x, soft));
        return (fr) => items.map((x) => x(fr));
      }
      case 'dict': {
        const items = e.items.map((p) => ({ key: this.expr(p.key, soft), value: this.expr(p.value, soft) }));
        return (fr) => {
          const d = new Map<Val, Val>();
          for (const p of items) setKey(d, p.key(fr), p.value(fr));
          return d;
        };
      }
      case 'getattr': {
        const node = this.expr(e.node, soft);
        const attr = e.attr;
        return (fr) => jinjaGetattr(node(fr), attr);
      }
      case 'getitem': {
        const node = this.expr(e.node, soft);
        if (e.arg.kind === 'slice') {
          const sl = e.arg;
          const none: Ev = () => null;
          const start = sl.start === null ? none : this.expr(sl.start, soft);
          const stop = sl.stop === null ? none : this.expr(sl.stop, soft);
          const step = sl.step === null ? none : this.expr(sl.step, soft);
          return (fr) => {
            const obj = node(fr);
            return pySubscript(obj, new PySlice(start(fr), stop(fr), step(fr)));
          };
        }
        const arg = this.expr(e.arg, soft);
        return (fr) => jinjaGetitem(node(fr), arg(fr));
      }
      case 'slice':
        return this.#fail('slices are only allowed in subscripts', e.pos);
      case 'call': {
        const fn = this.expr(e.node, soft);
        const args = this.#callArgs(e, soft);
        return (fr) => {
          const f = fn(fr);
          const [a, k] = args(fr);
          return pyCall(f, a, k);
        };
      }
      case 'filter': {
        if (e.node === null) return this.#fail('filter without a value', e.pos);
        const value = this.expr(e.node, soft);
        const apply = this.#filterApply(e, soft);
        return (fr) => apply(fr, value(fr));
      }
      case 'test':
        return this.#test(e, soft);
      case 'condexpr': {
        const test = this.expr(e.test, true);
        const expr1 = this.expr(e.expr1, true);
        const expr2 = e.expr2 === null ? null : this.expr(e.expr2, true);
        const { line } = this.#positions.at(e.pos);
        const hint = `the inline if-expression on line ${line} evaluated to false and no else section was defined.`;
        return (fr) => (pyBool(test(fr)) ? expr1(fr) : expr2 === null ? new Undefined(hint) : expr2(fr));
      }
      case 'and': {
        const l = this.expr(e.left, soft);
        const r = this.expr(e.right, soft);
        return (fr) => {
          const a = l(fr);
          return pyBool(a) ? r(fr) : a;
        };
      }
      case 'or': {
        const l = this.expr(e.left, soft);
        const r = this.expr(e.right, soft);
        return (fr) => {
          const a = l(fr);
          return pyBool(a) ? a : r(fr);
        };
      }
      case 'not': {
        const n = this.expr(e.node, soft);
        return (fr) => !pyBool(n(fr));
      }
      case 'neg': {
        const n = this.expr(e.node, soft);
        return (fr) => pyNeg(n(fr));
      }
      case 'pos': {
        const n = this.expr(e.node, soft);
        return (fr) => pyPos(n(fr));
      }
      case 'binop': {
        const l = this.expr(e.left, soft);
        const r = this.expr(e.right, soft);
        const op = binop(e.op);
        return (fr) => {
          const a = l(fr);
          return op(a, r(fr));
        };
      }
      case 'concat': {
        const parts = e.nodes.map((n) => this.expr(n, soft));
        return (fr) => pyConcat(parts.map((p) => p(fr)));
      }
      case 'compare': {
        const first = this.expr(e.expr, soft);
        const ops = e.ops.map((o) => ({ cmp: comparator(o.op), ev: this.expr(o.expr, soft) }));
        return (fr) => {
          let left = first(fr);
          for (const o of ops) {
            const right = o.ev(fr);
            if (!o.cmp(left, right)) return false;
            left = right;
          }
          return true;
        };
      }
      case 'nsref':
        return this.#fail('namespace references are only allowed as assignment targets', e.pos);
    }
  }

  /** Evaluates call arguments (`*args` and `**kwargs` expanded) into positional and keyword lists. */
  #callArgs(c: CallArgs, soft: boolean): (fr: Frame) => [Val[], Kwargs] {
    const args = c.args.map((a) => this.expr(a, soft));
    const kwargs = c.kwargs.map((k) => ({ key: k.key, ev: this.expr(k.value, soft) }));
    const dynArgs = c.dynArgs === null ? null : this.expr(c.dynArgs, soft);
    const dynKwargs = c.dynKwargs === null ? null : this.expr(c.dynKwargs, soft);
    return (fr) => {
      const a = args.map((x) => x(fr));
      if (dynArgs !== null) a.push(...pyIterArray(dynArgs(fr)));
      let k: Map<string, Val> | null = null;
      if (kwargs.length > 0) {
        k = new Map();
        for (const kw of kwargs) k.set(kw.key, kw.ev(fr));
      }
      if (dynKwargs !== null) {
        const d = dynKwargs(fr);
        if (!isDict(d)) pyRaise('TypeError', `argument after ** must be a mapping, not ${pyTypeName(d)}`);
        k ??= new Map();
        for (const [key, v] of dictEntries(d)) {
          if (typeof key !== 'string') pyRaise('TypeError', 'keywords must be strings');
          if (k.has(key)) pyRaise('TypeError', `got multiple values for keyword argument '${key}'`);
          k.set(key, v);
        }
      }
      return [a, k];
    };
  }

  /** A binder for a known signature: fixed call shapes are planned once, at compile time. */
  #binder(sig: Signature, c: CallArgs, soft: boolean): (fr: Frame) => Bound {
    const callArgs = this.#callArgs(c, soft);
    if (c.dynArgs !== null || c.dynKwargs !== null) {
      return (fr) => {
        const [a, k] = callArgs(fr);
        return bindArgs(sig, a, k);
      };
    }
    const args = c.args.map((a) => this.expr(a, soft));
    const kws = c.kwargs.map((k) => ({ key: k.key, ev: this.expr(k.value, soft) }));
    // Plan where each parameter comes from; any mismatch is left to bindArgs to report at run time.
    const plan = planBinding(sig, args.length, kws.map((k) => k.key));
    if (plan === null) {
      return (fr) => {
        const [a, k] = callArgs(fr);
        return bindArgs(sig, a, k);
      };
    }
    const EMPTY = new Map<string, Val>();
    return (fr) => {
      const a = args.map((x) => x(fr));
      const k = kws.map((x) => x.ev(fr));
      const values = plan.map((src) => (src.from === 'arg' ? a[src.i] : src.from === 'kw' ? k[src.i] : src.value) as Val);
      const rest = sig.varargs ? a.slice(sig.params.length) : [];
      let kw = EMPTY;
      if (sig.varkw) {
        kw = new Map();
        kws.forEach((x, i) => {
          if (!sig.params.includes(x.key)) kw.set(x.key, k[i] as Val);
        });
      }
      return { values, rest, kw };
    };
  }

  #filterApply(f: Extract<Expr, { kind: 'filter' }>, soft: boolean): (fr: Frame, value: Val) => Val {
    const def = FILTERS.get(f.name);
    if (def === undefined) {
      if (UNSUPPORTED_FILTERS.has(f.name)) this.#fail(`the '${f.name}' filter is not supported in archive templates`, f.pos);
      if (!soft) this.#fail(`No filter named '${f.name}'.`, f.pos);
      const name = f.name;
      return () => pyRaise('TemplateRuntimeError', `No filter named '${name}' found.`);
    }
    const bind = this.#binder(def.sig, f, soft);
    const fn = def.fn;
    return (fr, value) => fn(value, bind(fr));
  }

  #test(t: Extract<Expr, { kind: 'test' }>, soft: boolean): Ev {
    const def = TESTS.get(t.name);
    const value = this.expr(t.node, soft);
    if (def === undefined) {
      if (!soft) this.#fail(`No test named '${t.name}'.`, t.pos);
      const name = t.name;
      return () => pyRaise('TemplateRuntimeError', `No test named '${name}' found.`);
    }
    const bind = this.#binder(def.sig, t, soft);
    const fn = def.fn;
    return (fr) => {
      const v = value(fr);
      return fn(v, bind(fr).values);
    };
  }
}

type Source = { from: 'arg'; i: number } | { from: 'kw'; i: number } | { from: 'default'; value: Val };

function planBinding(sig: Signature, nArgs: number, kwNames: string[]): Source[] | null {
  const { params, defaults } = sig;
  if (nArgs > params.length && !sig.varargs) return null;
  if (kwNames.length > 0 && sig.positionalOnly) return null;
  const plan: (Source | null)[] = params.map((_, i) => (i < nArgs ? { from: 'arg', i } : null));
  for (let j = 0; j < kwNames.length; j++) {
    const i = params.indexOf(kwNames[j] as string);
    if (i < 0) {
      if (!sig.varkw) return null;
      continue;
    }
    if (plan[i] !== null) return null;
    plan[i] = { from: 'kw', i: j };
  }
  const required = params.length - defaults.length;
  for (let i = 0; i < params.length; i++) {
    if (plan[i] !== null) continue;
    if (i < required) return null;
    plan[i] = { from: 'default', value: defaults[i - required] as Val };
  }
  return plan as Source[];
}

function binop(op: string): (a: Val, b: Val) => Val {
  switch (op) {
    case '+':
      return pyAdd;
    case '*':
      return pyMul;
    case '%':
      return pyMod;
    case '-':
    case '/':
    case '//':
    case '**': {
      const o = op;
      return (a, b) => pyNumOp(o, a, b);
    }
    default:
      throw new Error(`unknown operator ${op}`);
  }
}

function comparator(op: string): (a: Val, b: Val) => boolean {
  switch (op) {
    case 'eq':
      return pyEq;
    case 'ne':
      return (a, b) => !pyEq(a, b);
    case 'lt':
    case 'lteq':
    case 'gt':
    case 'gteq': {
      const o = op;
      return (a, b) => pyOrder(o, a, b);
    }
    case 'in':
      return (a, b) => pyContains(b, a);
    case 'notin':
      return (a, b) => !pyContains(b, a);
    default:
      throw new Error(`unknown comparison ${op}`);
  }
}

/** The value of a constant expression (literals and constant lists), or NOT_FOUND. */
function constOf(e: Expr): Val | typeof NOT_FOUND {
  if (e.kind === 'const') return e.value;
  return NOT_FOUND;
}

function collectAssigned(stmts: Stmt[], out: Set<string>): void {
  const targets = (t: Expr): void => {
    if (t.kind === 'name') out.add(t.name);
    else if (t.kind === 'tuple') t.items.forEach(targets);
  };
  for (const s of stmts) {
    switch (s.kind) {
      case 'if':
        s.branches.forEach((b) => collectAssigned(b.body, out));
        collectAssigned(s.else_, out);
        break;
      case 'for':
        targets(s.target);
        out.add('loop');
        collectAssigned(s.body, out);
        collectAssigned(s.else_, out);
        break;
      case 'assign':
        targets(s.target);
        break;
      case 'assignblock':
        targets(s.target);
        collectAssigned(s.body, out);
        break;
      case 'with':
        s.targets.forEach(targets);
        collectAssigned(s.body, out);
        break;
      case 'filterblock':
        collectAssigned(s.body, out);
        break;
      default:
        break;
    }
  }
}

/** Compiles a parsed template. */
export function compileBody(body: Stmt[], positions: Positions): CompiledBody {
  const c = new Compiler(positions, body);
  const run = c.block(body, false);
  return { run, variables: c.variables };
}
