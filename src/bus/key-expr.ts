/**
 * Zenoh key-expression matching for concrete keys, used by the in-memory bus. Follows Zenoh's
 * rules: chunks separated by `/`; `*` matches exactly one chunk, `**` any number of chunks
 * (including none), `$*` any part of a chunk; chunks starting with `@` are verbatim and are
 * matched only by the same chunk, never by a wildcard.
 */

/** True when the concrete `key` is matched by key expression `expr`. */
export function keyExprMatches(expr: string, key: string): boolean {
  return matchChunks(expr.split('/'), 0, key.split('/'), 0);
}

function matchChunks(e: string[], i: number, k: string[], j: number): boolean {
  while (i < e.length) {
    const chunk = e[i]!;
    if (chunk === '**') {
      // `**` matches zero or more non-verbatim chunks.
      for (let n = j; n <= k.length; n++) {
        if (matchChunks(e, i + 1, k, n)) return true;
        if (n < k.length && k[n]!.startsWith('@')) return false;
      }
      return false;
    }
    if (j >= k.length) return false;
    const kc = k[j]!;
    if (kc.startsWith('@') || chunk.startsWith('@')) {
      if (chunk !== kc) return false;
    } else if (chunk === '*') {
      // one chunk
    } else if (chunk.includes('$*')) {
      if (!new RegExp(`^${chunk.split('$*').map(escapeRegExp).join('.*')}$`).test(kc)) return false;
    } else if (chunk !== kc) {
      return false;
    }
    i++;
    j++;
  }
  return j === k.length;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
