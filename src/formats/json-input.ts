/**
 * Reading JSON the way Python's `json.loads` does, as far as archives can tell the difference:
 * `1.0` stays a float (templates render it `1.0`, JSON files write it `1.0`) and integers
 * beyond 2^53 stay exact. BOSS reads manifests with json.loads, so `default_metadata` must keep
 * these distinctions to render file names identically.
 */
import { pyFloat, type PyValue } from '../heros/values.js';

/** `JSON.parse` keeping Python's float/int distinction. Throws SyntaxError like JSON.parse. */
export function parseJsonKeepingPythonNumbers(text: string): PyValue {
  return JSON.parse(text, keepPythonNumbers) as PyValue;
}

// Uses JSON.parse source text access (V8 >= 11.4, Node >= 21); without it numbers stay plain.
function keepPythonNumbers(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  const src = context.source;
  if (/[.eE]/.test(src)) return pyFloat(value);
  if (!Number.isSafeInteger(value)) return BigInt(src);
  return value;
}
