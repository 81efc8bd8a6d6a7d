/**
 * Retry delays: exponential growth with a cap and jitter, as a pure function so it can be
 * tested without timers. Jitter spreads retries of many failing events so that they do not hit
 * a recovering disk or service all at once.
 */

/** How retry delays grow. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. @default 200 */
  initialMs: number;
  /** Upper bound of any delay, in ms. @default 30000 */
  maxMs: number;
  /** Growth factor per attempt. @default 2 */
  factor: number;
  /** Fraction of the delay that is randomised, 0 (none) … 1 (full jitter). @default 0.5 */
  jitter: number;
}

/** The defaults documented above. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 200, maxMs: 30_000, factor: 2, jitter: 0.5 });

/**
 * Delay before retry number `retry` (1 for the first retry). With jitter `j` the delay is
 * uniformly drawn from `[d·(1−j), d]` where `d = min(maxMs, initialMs·factor^(retry−1))`.
 * @param random a source of numbers in [0, 1); injectable for tests.
 */
export function backoffDelay(retry: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(retry));
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** (n - 1));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.max(0, Math.round(base * (1 - jitter * random())));
}
