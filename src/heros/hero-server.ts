/**
 * A HERO served from Node: the endpoints HEROS's `LocalHERO` declares, so that Python tools
 * (`RemoteHERO`, `HEROObserver`, BOSS's web views) find it and call its methods.
 *
 *   @object/<realm>/<name>/_discover      queryable  → CBOR ro_descriptor dict
 *   @object/<realm>/<name>/_capabilities  queryable  → CBOR list of capability dicts
 *   @object/<realm>/<name>/<method>       queryable  ← CBOR [args, kwargs]  → CBOR return value
 *   @object/<realm>/<name>/_health        liveliness token
 *
 * Replies mirror heros 0.8.9 (`heros/heros.py`, `heros/capabilities.py`, proto 1.0): a method
 * that fails answers with an error reply whose payload is the CBOR string
 * `"<message>\n\n<traceback>"`, as `MethodCapability.get_call_wrapper` sends with `reply_err`.
 */
import { QueryReplyError, type Bus, type Declaration, type Query } from '../bus/bus.js';
import { decodeHeros, encodeHeros } from './cbor.js';
import { HEROS_NAMESPACE } from './keys.js';
import { PyFloat, type PyValue } from './values.js';

/** The HEROS protocol version spoken (`heros.__proto_version__`). */
export const HEROS_PROTO_VERSION = 1.0;

const CBOR_ENCODING = 'application/cbor';

/** `inspect.Parameter.kind`, which heros sends as its integer value. */
export type ParameterKind = 'POSITIONAL_ONLY' | 'POSITIONAL_OR_KEYWORD' | 'VAR_POSITIONAL' | 'KEYWORD_ONLY' | 'VAR_KEYWORD';

const KIND_CODE: Readonly<Record<ParameterKind, number>> = {
  POSITIONAL_ONLY: 0,
  POSITIONAL_OR_KEYWORD: 1,
  VAR_POSITIONAL: 2,
  KEYWORD_ONLY: 3,
  VAR_KEYWORD: 4,
};

/** One parameter of a method, as Python's signature would declare it. */
export interface HeroParameter {
  readonly name: string;
  /** Annotation as heros writes it (`str`, `bool`). @default 'undefined' (no annotation) */
  readonly type?: string;
  /** The default value; a parameter without the `default` key is required. */
  readonly default?: PyValue;
  /** @default 'POSITIONAL_OR_KEYWORD' */
  readonly kind?: ParameterKind;
}

/** Arguments bound to parameter names, as Python binds them before the call. */
export type BoundArguments = Record<string, PyValue>;

/** A method of a served HERO. */
export interface HeroMethod {
  /** Parameters, without `self`. @default [] */
  readonly params?: readonly HeroParameter[];
  /** Return annotation as heros writes it. @default 'None' */
  readonly returns?: string;
  /**
   * Runs the method. `args`/`kwargs` are what the caller sent; `bound` is the same bound to
   * `params` (defaults filled in), already checked the way Python checks a call. Throwing
   * answers the caller with an error reply.
   */
  call(args: readonly PyValue[], kwargs: Readonly<Record<string, PyValue>>, bound: BoundArguments): PyValue | Promise<PyValue>;
}

/** What to serve. */
export interface HeroSpec {
  /** HERO name: one key chunk, no `/ * $ ? #`, not starting with `@`. */
  readonly name: string;
  /** @default 'heros' */
  readonly realm?: string;
  /** `class` in the descriptor (Python's `type(obj).__name__`). */
  readonly className: string;
  /** Methods by name; names starting with `_` are refused (heros hides them). */
  readonly methods: Readonly<Record<string, HeroMethod>>;
  /**
   * Tags; `_proto_version:1.0` and `_pkg_versions:{…}` are added as LocalHERO adds them.
   * @default []
   */
  readonly tags?: readonly string[];
  /** Interfaces implemented. @default [] */
  readonly implements?: readonly string[];
  /**
   * Package versions for the `_pkg_versions:` tag (LocalHERO lists heros, boss, herostools…).
   * @default {}
   */
  readonly pkgVersions?: Readonly<Record<string, string>>;
}

/** A HERO being served; `close()` withdraws it (queryables, then liveliness) and is idempotent. */
export interface ExposedHero {
  readonly name: string;
  /** `@object/<realm>/<name>` */
  readonly keyPrefix: string;
  close(): Promise<void>;
}

/** Why `name` cannot be a HERO name, or undefined when it can. */
export function heroNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a HERO name must not be empty';
  if (/[/*$?#\s]/.test(name)) return `HERO name "${name}" contains one of / * $ ? # or a space`;
  if (name.startsWith('@')) return `HERO name "${name}" starts with @`;
  return undefined;
}

/**
 * Declares the HERO's endpoints on `bus` and resolves once all are declared (queryables
 * first, the liveliness token last, so that whoever sees it appear can query at once).
 * @throws TypeError for an invalid name or method name; the bus's error when a declaration fails
 *   (the endpoints declared so far are withdrawn).
 */
export async function exposeHero(bus: Bus, spec: HeroSpec): Promise<ExposedHero> {
  const problem = heroNameProblem(spec.name);
  if (problem) throw new TypeError(problem);
  for (const method of Object.keys(spec.methods)) {
    if (method.startsWith('_') || heroNameProblem(method)) throw new TypeError(`invalid HERO method name "${method}"`);
  }
  const realm = spec.realm ?? 'heros';
  const keyPrefix = `${HEROS_NAMESPACE}/${realm}/${spec.name}`;
  const descriptor = encodeHeros(discoverDescriptor(spec));
  const capabilities = encodeHeros(Object.entries(spec.methods).map(([name, m]) => capabilityDict(name, m)));

  const declared: Declaration[] = [];
  const closeAll = async (): Promise<void> => {
    // Queryables go before the token: a HEROObserver that sees the token vanish queries
    // `_discover` and drops the HERO only when nothing answers. zenoh-ts also forgets a
    // queryable's callback before the bridge confirms the undeclare, so a query arriving in
    // that window is never answered and its caller waits for its whole timeout.
    const token = declared.pop();
    await Promise.all(declared.map((d) => d.close().catch(() => undefined)));
    await token?.close().catch(() => undefined);
    declared.length = 0;
  };
  try {
    declared.push(await bus.declareQueryable(`${keyPrefix}/_discover`, () => descriptor, { encoding: CBOR_ENCODING }));
    declared.push(await bus.declareQueryable(`${keyPrefix}/_capabilities`, () => capabilities, { encoding: CBOR_ENCODING }));
    for (const [name, method] of Object.entries(spec.methods)) {
      declared.push(await bus.declareQueryable(`${keyPrefix}/${name}`, (query) => callMethod(name, method, query), { encoding: CBOR_ENCODING }));
    }
    declared.push(await bus.declareLivelinessToken(`${keyPrefix}/_health`));
  } catch (err) {
    await closeAll();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    name: spec.name,
    keyPrefix,
    close: () => (closing ??= closeAll()),
  };
}

/** The descriptor LocalHERO's `_discover` answers with (key order as in heros.py). */
export function discoverDescriptor(spec: HeroSpec): PyValue {
  const tags = [...(spec.tags ?? []), `_pkg_versions:${pythonJsonDumps(spec.pkgVersions ?? {})}`, `_proto_version:${HEROS_PROTO_VERSION.toFixed(1)}`];
  return {
    proto_version: new PyFloat(HEROS_PROTO_VERSION),
    name: spec.name,
    class: spec.className,
    implements: new Set<PyValue>(spec.implements ?? []),
    tags: new Set<PyValue>(tags),
  };
}

/** `MethodCapability.to_dict()`: name, flavor, parameters, return_type. */
export function capabilityDict(name: string, method: HeroMethod): PyValue {
  return {
    name,
    flavor: 'method',
    parameters: (method.params ?? []).map((p) => ({
      name: p.name,
      type: p.type ?? 'undefined',
      // heros marks "no default" with the string "undefined".
      default: 'default' in p ? (p.default ?? null) : 'undefined',
      kind: KIND_CODE[p.kind ?? 'POSITIONAL_OR_KEYWORD'],
    })),
    return_type: method.returns ?? 'None',
  };
}

/**
 * Binds `args`/`kwargs` to `params` as Python does for a call, with Python's TypeError texts.
 * @throws TypeError when they do not fit.
 */
export function bindArguments(method: string, params: readonly HeroParameter[], args: readonly PyValue[], kwargs: Readonly<Record<string, PyValue>>): BoundArguments {
  const bound: BoundArguments = {};
  const positional = params.filter((p) => (p.kind ?? 'POSITIONAL_OR_KEYWORD') === 'POSITIONAL_ONLY' || (p.kind ?? 'POSITIONAL_OR_KEYWORD') === 'POSITIONAL_OR_KEYWORD');
  const varPositional = params.find((p) => p.kind === 'VAR_POSITIONAL');
  const varKeyword = params.find((p) => p.kind === 'VAR_KEYWORD');
  if (args.length > positional.length && !varPositional) {
    throw new TypeError(`${method}() takes ${positional.length} positional argument${positional.length === 1 ? '' : 's'} but ${args.length} were given`);
  }
  positional.forEach((p, i) => {
    if (i < args.length) bound[p.name] = args[i];
  });
  if (varPositional) bound[varPositional.name] = args.slice(positional.length);
  const extra: Record<string, PyValue> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const p = params.find((q) => q.name === key && q.kind !== 'POSITIONAL_ONLY' && q.kind !== 'VAR_POSITIONAL' && q.kind !== 'VAR_KEYWORD');
    if (!p) {
      if (varKeyword) {
        extra[key] = value;
        continue;
      }
      throw new TypeError(`${method}() got an unexpected keyword argument '${key}'`);
    }
    if (Object.hasOwn(bound, key)) throw new TypeError(`${method}() got multiple values for argument '${key}'`);
    bound[key] = value;
  }
  if (varKeyword) bound[varKeyword.name] = extra;
  const missing = params.filter((p) => p.kind !== 'VAR_POSITIONAL' && p.kind !== 'VAR_KEYWORD' && !Object.hasOwn(bound, p.name) && !('default' in p));
  if (missing.length > 0) {
    const names = missing.map((p) => `'${p.name}'`);
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    throw new TypeError(`${method}() missing ${missing.length} required argument${missing.length === 1 ? '' : 's'}: ${list}`);
  }
  for (const p of params) {
    if (!Object.hasOwn(bound, p.name) && 'default' in p) bound[p.name] = p.default ?? null;
  }
  return bound;
}

async function callMethod(name: string, method: HeroMethod, query: Query): Promise<Uint8Array> {
  try {
    const [args, kwargs] = callArguments(query.payload);
    const bound = bindArguments(name, method.params ?? [], args, kwargs);
    const result = await method.call(args, kwargs, bound);
    return encodeHeros(result === undefined ? null : result);
  } catch (err) {
    const text = err instanceof Error ? `${err.message}\n\n${traceback(err)}` : `${String(err)}\n\n`;
    throw new QueryReplyError(err instanceof Error ? err.message : String(err), encodeHeros(text));
  }
}

/**
 * The call's `(args, kwargs)`: proto ≥ 1.0 sends `[args, kwargs]`; proto 0.1 sent a dict of
 * keyword arguments; an empty query (no payload) is a call without arguments.
 */
function callArguments(payload: Uint8Array | undefined): [PyValue[], Record<string, PyValue>] {
  if (payload === undefined || payload.byteLength === 0) return [[], {}];
  const value = decodeHeros(payload);
  if (Array.isArray(value) && value.length === 2 && Array.isArray(value[0])) {
    return [value[0], keywordArguments(value[1])];
  }
  if (isPlainMap(value)) return [[], keywordArguments(value)];
  throw new TypeError('a HEROS method call carries [args, kwargs]');
}

function keywordArguments(value: PyValue): Record<string, PyValue> {
  if (value instanceof Map) {
    const out: Record<string, PyValue> = {};
    for (const [k, v] of value) {
      if (typeof k !== 'string') throw new TypeError('keywords must be strings');
      out[k] = v;
    }
    return out;
  }
  if (isPlainMap(value)) return { ...value };
  throw new TypeError('a HEROS method call carries [args, kwargs]');
}

function isPlainMap(value: PyValue): value is Record<string, PyValue> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** The stack below the message line, the part Python's `traceback.format_tb` would give. */
function traceback(err: Error): string {
  const stack = err.stack ?? '';
  const lines = stack.split('\n');
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  return firstFrame < 0 ? '' : `${lines.slice(firstFrame).join('\n')}\n`;
}

/** `json.dumps` of a flat dict of strings, with Python's default separators. */
function pythonJsonDumps(dict: Readonly<Record<string, string>>): string {
  const items = Object.entries(dict).map(([k, v]) => `${pyJsonString(k)}: ${pyJsonString(v)}`);
  return `{${items.join(', ')}}`;
}

/** A JSON string with `ensure_ascii=True`, as Python writes it. */
function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
