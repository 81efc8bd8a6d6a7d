/**
 * Typed, declarative option schemas for actors. Each actor class declares the options it
 * accepts as plain data; the manifest validator checks `arguments` against it (reporting every
 * problem with its path), applies documented defaults, and freezes the result.
 *
 * Names are taken exactly as BOSS manifests spell them (snake_case, as in herostools).
 */
import type { ConfigProblem } from './errors.js';
import { PyFloat } from './heros/values.js';

/** One option. `doc` and `default` feed the README's option tables. */
export type OptionSpec =
  | { type: 'string'; required?: boolean; default?: string; doc: string; enum?: readonly string[]; nonEmpty?: boolean }
  | { type: 'boolean'; required?: boolean; default?: boolean; doc: string }
  | { type: 'integer'; required?: boolean; default?: number; doc: string; min?: number; max?: number }
  | { type: 'number'; required?: boolean; default?: number; doc: string; min?: number; max?: number }
  | { type: 'object'; required?: boolean; default?: Record<string, unknown>; doc: string }
  | { type: 'any'; required?: boolean; default?: unknown; doc: string };

/** An actor's option schema: option name → spec. */
export type OptionsSchema = Readonly<Record<string, OptionSpec>>;

/**
 * Checks `args` against `schema`. Returns the options with defaults applied (deep-frozen) and
 * every problem found; `path` prefixes problem paths (`boss.json[0].arguments`).
 */
export function validateOptions(
  schema: OptionsSchema,
  args: unknown,
  path: string,
  actorId?: string,
): { options: Record<string, unknown>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const out: Record<string, unknown> = {};
  const problem = (where: string, message: string): void => {
    problems.push({ code: 'ARCHIVER_OPTIONS_INVALID', path: where, message, ...(actorId === undefined ? {} : { actorId }) });
  };
  if (args === undefined || args === null) args = {};
  if (typeof args !== 'object' || Object.getPrototypeOf(args) !== Object.prototype) {
    problem(path, `expected an object, got ${describeType(args)}`);
    return { options: out, problems };
  }
  const given = args as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(schema, key)) {
      const known = Object.keys(schema).sort().join(', ');
      problem(`${path}.${key}`, `unknown option "${key}"${suggest(key, Object.keys(schema))}; accepted: ${known}`);
    }
  }
  for (const [name, spec] of Object.entries(schema)) {
    const where = `${path}.${name}`;
    const value = given[name];
    if (value === undefined || (value === null && spec.type !== 'any')) {
      if (spec.required) problem(where, `required option is missing (expected ${expected(spec)})`);
      else if (spec.default !== undefined) out[name] = structuredClone(spec.default);
      continue;
    }
    // Manifests are parsed keeping Python's float/int distinction; numeric options take both.
    const plain = (spec.type === 'integer' || spec.type === 'number') && value instanceof PyFloat ? value.value : value;
    const message = checkValue(spec, plain);
    if (message !== undefined) problem(where, message);
    else out[name] = plain;
  }
  return { options: deepFreeze(out), problems };
}

function checkValue(spec: OptionSpec, value: unknown): string | undefined {
  const got = `got ${describeType(value)}${typeof value === 'string' || typeof value === 'number' ? ` ${JSON.stringify(value)}` : ''}`;
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return `expected a string, ${got}`;
      if (spec.nonEmpty && value.length === 0) return 'expected a non-empty string';
      if (spec.enum && !spec.enum.includes(value)) return `expected one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}, ${got}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected true or false, ${got}`;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `expected ${expected(spec)}, ${got}`;
      if (spec.type === 'integer' && !Number.isInteger(value)) return `expected an integer, ${got}`;
      if (spec.min !== undefined && value < spec.min) return `expected a value >= ${spec.min}, ${got}`;
      if (spec.max !== undefined && value > spec.max) return `expected a value <= ${spec.max}, ${got}`;
      return undefined;
    }
    case 'object':
      // A Map is how the manifest reader keeps the order of keys like "10" (see json-input.ts).
      return typeof value === 'object' && value !== null && (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map)
        ? undefined
        : `expected an object, ${got}`;
    case 'any':
      return undefined;
  }
}

function expected(spec: OptionSpec): string {
  switch (spec.type) {
    case 'string':
      return spec.enum ? `one of ${spec.enum.join(', ')}` : 'a string';
    case 'boolean':
      return 'true or false';
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'object':
      return 'an object';
    case 'any':
      return 'a value';
  }
}

/** `string`, `number`, `array`, `null`, `object`, … for messages. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function suggest(key: string, known: string[]): string {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Freezes an object graph of plain data. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
