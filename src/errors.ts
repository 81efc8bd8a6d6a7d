/**
 * Every error heros-archiver raises, in one table. Each has a stable `code` that logs, the
 * dead-letter records and the README use; tests assert on codes, never on messages.
 * A test checks that the README's error table lists exactly these codes.
 */

/** Where an error happened; every field is optional. */
export interface ErrorContext {
  /** The manifest `_id` of the actor concerned. */
  actorId?: string;
  /** The manifest `classname`. */
  classname?: string;
  /** A file or manifest path (`[2].arguments.save_template`), depending on the error. */
  path?: string;
  /** The underlying error. */
  cause?: unknown;
  /** Whether retrying the same operation can succeed. Defaults per code (see table). */
  retryable?: boolean;
}

/** The error table: code → whether it is retryable by default, and what it means. */
export const ERROR_CODES = {
  ARCHIVER_MANIFEST_INVALID: { retryable: false, summary: 'A manifest is not valid JSON or does not have the BOSS shape; every problem is listed with its path.' },
  ARCHIVER_MANIFEST_UNREADABLE: { retryable: false, summary: 'A manifest file, folder, URL or environment variable could not be read.' },
  ARCHIVER_DUPLICATE_ID: { retryable: false, summary: 'Two manifest entries share one `_id`.' },
  ARCHIVER_CLASS_NOT_FOUND: { retryable: false, summary: 'A `classname` is not a built-in name, a module path, or an installed package export.' },
  ARCHIVER_CLASS_INVALID: { retryable: false, summary: 'A `classname` resolved to something that is not an `EventObserver` subclass.' },
  ARCHIVER_OPTIONS_INVALID: { retryable: false, summary: "An actor's `arguments` are wrong: unknown key, wrong type, missing required option." },
  ARCHIVER_TEMPLATE_INVALID: { retryable: false, summary: 'A `save_template` does not compile.' },
  ARCHIVER_TEMPLATE_FAILED: { retryable: false, summary: 'A template failed while rendering an event (e.g. `%d` of a string); the event is dead-lettered.' },
  ARCHIVER_PATH_OUTSIDE_ROOT: { retryable: false, summary: "A rendered file path escapes the actor's allowed root (`..`, absolute path elsewhere); the event is dead-lettered." },
  ARCHIVER_PAYLOAD_MISMATCH: { retryable: false, summary: 'The payload does not fit the archiver (e.g. a string for ArrayArchiver, an array that cannot be split); the event is dead-lettered.' },
  ARCHIVER_EVENT_MALFORMED: { retryable: false, summary: 'An event value is not `[payload, metadata]` with a dict as metadata; the raw event is dead-lettered.' },
  ARCHIVER_DECODE_FAILED: { retryable: false, summary: 'Event bytes are not valid HEROS CBOR; the raw bytes are dead-lettered.' },
  ARCHIVER_UNSUPPORTED_DTYPE: { retryable: false, summary: 'An ndarray dtype cannot be written as .npy (or is unknown); the event is dead-lettered.' },
  ARCHIVER_SCHEMA_MISMATCH: { retryable: false, summary: "An event does not fit an ArrowArchiver file's schema (a field of another type, a new field) and `schema_evolution` is `reject`, or the schema cannot widen to it; the event is dead-lettered." },
  ARCHIVER_LATE_EVENT: { retryable: false, summary: "An ArrowArchiver event with `forward_only` is older (`time_key`) than the last event archived for its source; the event is dead-lettered." },
  ARCHIVER_STORE_FAILED: { retryable: true, summary: 'Storing an event failed (I/O error or an exception in `store`); it is retried with backoff.' },
  ARCHIVER_STORE_TIMEOUT: { retryable: true, summary: 'A `store` call exceeded `store_timeout_ms`; it was aborted and is retried.' },
  ARCHIVER_RETRIES_EXHAUSTED: { retryable: false, summary: 'An event still failed after `max_retries` retries; it is dead-lettered.' },
  ARCHIVER_STOPPED_UNSTORED: { retryable: false, summary: 'An event was still queued when its actor stopped, the drain timeout ran out and the spool could not take it; it is dead-lettered so that it can be re-played.' },
  ARCHIVER_DEAD_LETTER_FAILED: { retryable: true, summary: 'The dead-letter folder itself could not be written; the event is kept in memory and retried.' },
  ARCHIVER_ACTOR_START_FAILED: { retryable: true, summary: 'An actor failed to construct or start; the other actors keep running.' },
  ARCHIVER_BUS_FAILED: { retryable: true, summary: 'The message bus (Zenoh via the bridge, or the in-process session) is unreachable or failed a call; not retried when the in-process transport is not built or its Zenoh configuration is invalid.' },
  ARCHIVER_SPOOL_FULL: { retryable: true, summary: 'The disk spool refused an event: it would exceed `quotaBytes`, or the disk is full (the errno is the cause); appends work again once acks or the operator free space.' },
  ARCHIVER_SPOOL_CORRUPT: { retryable: false, summary: 'Spool data cannot be used: a record fails its checksum when read back, or a segment has an unknown format version; nothing is deleted (torn tails found at startup are moved aside to `*.corrupt-*` instead).' },
  ARCHIVER_SPOOL_FAILED: { retryable: true, summary: 'The spool folder could not be opened, read, written or synced (other than a full disk), or the spool is closed or already open in this process.' },
  ARCHIVER_USAGE: { retryable: false, summary: 'The command line is wrong (unknown command or flag, missing value).' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

/** One of the codes in {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error heros-archiver throws. */
export class ArchiverError extends Error {
  readonly code: ErrorCode;
  readonly actorId: string | undefined;
  readonly classname: string | undefined;
  readonly path: string | undefined;
  /** Whether the operation may succeed when retried. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'ArchiverError';
    this.code = code;
    this.actorId = context.actorId;
    this.classname = context.classname;
    this.path = context.path;
    this.retryable = context.retryable ?? ERROR_CODES[code].retryable;
  }

  /** A plain object for logs and dead-letter records. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.actorId === undefined ? {} : { actorId: this.actorId }),
      ...(this.classname === undefined ? {} : { classname: this.classname }),
      ...(this.path === undefined ? {} : { path: this.path }),
      retryable: this.retryable,
      ...(this.cause === undefined ? {} : { cause: describeCause(this.cause) }),
    };
  }
}

/** An error a `store` implementation throws to say "retrying cannot help". */
export class UnrecoverableError extends ArchiverError {
  constructor(message: string, context: Omit<ErrorContext, 'retryable'> = {}, code: ErrorCode = 'ARCHIVER_PAYLOAD_MISMATCH') {
    super(code, message, { ...context, retryable: false });
    this.name = 'UnrecoverableError';
  }
}

/** One problem found while validating configuration. */
export interface ConfigProblem {
  code: ErrorCode;
  /** Where: `boss.json[1].arguments.save_template`. */
  path: string;
  message: string;
  actorId?: string;
}

/** Configuration that failed validation; `problems` lists all of them, not just the first. */
export class ConfigError extends ArchiverError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    const first = problems[0];
    super(first?.code ?? 'ARCHIVER_MANIFEST_INVALID', formatProblems(problems), {
      path: first?.path,
      actorId: first?.actorId,
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  if (problems.length === 0) return 'invalid configuration';
  const lines = problems.map((p) => `${p.path}: ${p.message} [${p.code}]`);
  return `${problems.length} configuration problem${problems.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`;
}

/** A compact, JSON-safe description of any thrown value. */
export function describeCause(cause: unknown): Record<string, unknown> | string {
  if (cause instanceof ArchiverError) return cause.toJSON();
  if (cause instanceof Error) {
    const out: Record<string, unknown> = { name: cause.name, message: cause.message };
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  return String(cause);
}

/** True when retrying the failed operation may help (see style: errors decide retries). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ArchiverError) return err.retryable;
  if (err instanceof Error && err.name === 'UnrecoverableError') return false;
  if (err && typeof err === 'object' && (err as { retryable?: unknown }).retryable === false) return false;
  return true;
}

/**
 * The code of any thrown value: its own when it is one of ours (also from another copy of
 * this package, as a plugin may bundle), otherwise `fallback`.
 */
export function errorCode(err: unknown, fallback: ErrorCode = 'ARCHIVER_STORE_FAILED'): ErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code) ? (code as ErrorCode) : fallback;
}
