/**
 * ArrowArchiver: appends events as rows to Arrow IPC files, one column per payload field.
 *
 *   store(event) ─► row checked against the schema (dead-letter or widen), key de-duplicated,
 *        │          watermark checked ─► buffered in the batch of its file (rendered save_template)
 *        │                                  │ batch_rows rows or batch_ms, whichever first
 *        │                                  ▼
 *        │                         one record batch appended to <name>.arrows (+ fdatasync)
 *        └──── resolves only now ◄──────────┘
 *                                  roll-over / idle / stop ─► <name>.arrow (IPC file)
 *
 * Each event settles only when its row's batch is on disk, because the DataArchiver acks the
 * event in the spool then: settling earlier would ack rows that are still only in memory.
 * Batches therefore hold at most `concurrency` rows (the events in flight), so `concurrency`
 * > 1 is what makes batches (default 1024). The queue hands over the events of one turn of
 * the event loop in one storeBatch() call, settled together with one promise and one abort
 * watch; store() is the same for one event.
 */
import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RecordBatchReader, Schema, tableFromIPC } from 'apache-arrow';
import { arrowArchiveDir } from '../src/arrow-query.js';
import { type BatchEvent, DataArchiver, type DataArchiverOptions, type Metadata, type StoreContext } from '../src/archiver.js';
import { ConfigError, type ConfigProblem, UnrecoverableError } from '../src/errors.js';
import {
  type ColumnConverter,
  columnConverter,
  columnsOfFileSchema,
  type ColumnSpec,
  fileSchema,
  inferKind,
  KEY_COLUMN,
  MisfitError,
  parseKind,
  RECEIVED_AT_COLUMN,
  type Row,
  rowsToBatch,
  SCHEMA_SINCE_KEY,
  SOURCE_COLUMN,
  toColumnValue,
  widenKind,
} from '../src/formats/arrow-table.js';
import { PyFloat, type PyValue, toNumber } from '../src/heros/values.js';
import type { ActorContext } from '../src/observer.js';
import type { OptionsSchema } from '../src/options.js';
import { type ArrowFsync, ArrowStreamFile, finalizeStreamFile, streamPathOf } from '../src/storage/arrow-stream-file.js';
import { compileTemplate, type CompiledTemplate } from '../src/template.js';

/** ArrowArchiver options (manifest `arguments`). */
export interface ArrowArchiverOptions extends DataArchiverOptions {
  /** Jinja2 template of the file path; sees the merged metadata, `source` and the receive
   *  time's `date`, `year`, `month`, `day`, `hour` (UTC). `.arrow` is appended when missing. */
  readonly save_template: string;
  /** Metadata keys written as columns (after `source` and `received_at`). @default [] */
  readonly metadata_columns: readonly string[];
  /** Declared columns `{name: kind}` (`int64`, `float64`, `bool`, `utf8`, `binary`,
   *  `float32[3]`, …) instead of inferring them from the first event. @default undefined */
  readonly schema?: Readonly<Record<string, string>>;
  /** `reject`: an event that does not fit the schema is dead-lettered; `widen`: the schema
   *  widens (new column, Null → a type, int → float) and a new file starts. @default "reject" */
  readonly schema_evolution: 'reject' | 'widen';
  /** Rows per record batch at most. @default 1024 */
  readonly batch_rows: number;
  /** A batch is written at the latest this long after its first row. @default 20 */
  readonly batch_ms: number;
  /** `batch`: fdatasync each batch before its events count as stored; `none`: leave it to
   *  the OS (survives a process crash, not a power cut). @default "batch" */
  readonly fsync: ArrowFsync;
  /** A file is finalised once it holds this many bytes. @default 134217728 */
  readonly max_file_bytes: number;
  /** … or this many rows (0: no limit). @default 0 */
  readonly max_file_rows: number;
  /** … or is this old, in ms (0: no limit). @default 0 */
  readonly max_file_age_ms: number;
  /** A file not written to for this long is finalised. @default 60000 */
  readonly idle_close_ms: number;
  /** Files open at once; the least recently written is finalised beyond it. @default 16 */
  readonly max_open_files: number;
  /** Template of a key (sees payload fields, metadata and `source`); an event whose key was
   *  already archived is counted as a duplicate and not written again. @default undefined */
  readonly unique_key?: string;
  /** Payload field or metadata key holding the event time (a number), tracked per source. @default undefined */
  readonly time_key?: string;
  /** Dead-letter an event older than its source's last archived `time_key` value. @default false */
  readonly forward_only: boolean;
  /** Folder scanned at start (unfinished files, keys, watermarks). Default: the fixed folder
   *  part of `save_template` before its first `{`. @default undefined */
  readonly archive_dir?: string;
  /** Events are a HEROS datasource's `observable_data` (a list of readings): one row per
   *  reading. @default true when `event_name` is `observable_data`, else false */
  readonly datasource?: boolean;
}

/** Counters of the tabular path, beside the DataArchiver's own. */
export interface ArrowArchiverStats {
  rows: number;
  batches: number;
  duplicates: number;
  filesFinalized: number;
}

const RESERVED = new Set([SOURCE_COLUMN, RECEIVED_AT_COLUMN, KEY_COLUMN]);

/** The events of one store() or storeBatch() call, settled together once each is. */
interface RowGroup {
  readonly signal: AbortSignal;
  readonly size: number;
  /** Rows not settled yet (one per event until a datasource event adds its further readings). */
  left: number;
  /** Each event's error, once one failed (entries left empty were stored). */
  errors: unknown[] | undefined;
  /** Slots that were given rows of the group (usually one). */
  readonly slots: Slot[];
  readonly done: (errors: unknown[] | undefined) => void;
  /** The abort watch of its signal, while it is registered there. */
  watch: AbortWatch | undefined;
}

/** Rows waiting for their batch to be written. */
interface PendingRow {
  readonly row: Row;
  readonly key: string | undefined;
  readonly slot: Slot;
  readonly group: RowGroup;
  /** The row's event in its group. */
  readonly index: number;
  /** Settles the row's entry in the in-flight keys (only with a key). */
  readonly settle: ((ok: boolean) => void) | undefined;
}

/**
 * One abort listener per signal for all the groups waiting with it: removing one listener
 * among many is linear in Node, so a listener per store() made calls sharing a signal quadratic.
 */
interface AbortWatch {
  /** The group waiting with the signal, while it is the only one (the usual case). */
  one: RowGroup | undefined;
  /** The groups waiting with the signal once there were two at a time. */
  many: Set<RowGroup> | undefined;
  readonly onAbort: () => void;
}

/** What converting a row needs for the current columns, compiled once per column set. */
interface FitPlan {
  /** The `#columns` it was made for. */
  readonly columns: readonly ColumnSpec[];
  /** Data columns (without `_key`). */
  readonly dataColumns: readonly ColumnSpec[];
  readonly converters: readonly ColumnConverter[];
  /** Column index of each data column name. */
  readonly index: ReadonlyMap<string, number>;
  /** Column index of each data column a payload field fills (not the metadata columns). */
  readonly fieldIndex: ReadonlyMap<string, number>;
  /** Column index of each metadata column (-1: not a column). */
  readonly metaIndex: readonly number[];
}

/** A temporary file of a finalisation (`.x.arrow.…`) or of a stream's creation (`.x.arrows.…`; see temporaryName). */
const FINALIZE_TMP = /^\..+\.arrows?\.[0-9a-z]+(-[0-9a-z]+)?\.tmp$/;

/** The only names a `save_template` may read for its rendering to be cached per source. */
const PATH_NAMES = new Set(['source', 'date', 'year', 'month', 'day', 'hour']);

/** One rendered file name and the file currently written for it. */
interface Slot {
  readonly logical: string;
  readonly columns: readonly ColumnSpec[];
  /** When the archiver took up `columns` (see SCHEMA_SINCE_KEY). */
  readonly schemaSince: number;
  file: ArrowStreamFile | undefined;
  batch: PendingRow[];
  timer: NodeJS.Timeout | undefined;
  chain: Promise<void>;
  lastWriteAt: number;
  retired: boolean;
}

/** Archives dict payloads as rows of Arrow IPC files. */
export class ArrowArchiver extends DataArchiver<ArrowArchiverOptions> {
  static override readonly optionsSchema: OptionsSchema = {
    ...DataArchiver.optionsSchema,
    save_template: { type: 'string', required: true, nonEmpty: true, doc: 'Jinja2 template of the file path; sees the merged metadata, `source` and the receive time (`date`, `year`, `month`, `day`, `hour`, UTC). `.arrow` is appended when missing.' },
    metadata_columns: { type: 'any', default: [], doc: 'Metadata keys written as columns, after `source` and `received_at`.' },
    schema: { type: 'object', doc: 'Declared columns `{name: kind}` (`int64`, `float64`, `bool`, `utf8`, `binary`, `null`, `int8`…`uint64`, `float32`, `<kind>[n]` for 1-d arrays of n items); without it the first event decides.' },
    schema_evolution: { type: 'string', enum: ['reject', 'widen'], default: 'reject', doc: '`reject`: an event that does not fit the schema is dead-lettered (`ARCHIVER_SCHEMA_MISMATCH`); `widen`: the schema widens (new column, None column gets a type, int → float) and a new file starts.' },
    concurrency: { type: 'integer', default: 1024, min: 1, max: 65_536, doc: 'Events in flight; each waits until its row is in a batch on disk, so a batch holds at most this many rows.' },
    batch_rows: { type: 'integer', default: 1024, min: 1, max: 1_000_000, doc: 'Rows per record batch at most (a batch never holds more rows than `concurrency`).' },
    batch_ms: { type: 'integer', default: 20, min: 0, max: 60_000, doc: 'A batch is written at the latest this many ms after its first row.' },
    fsync: { type: 'string', enum: ['none', 'batch'], default: 'batch', doc: '`batch`: fdatasync each batch before its events count as stored; `none`: leave flushing to the OS (survives a crash of the daemon, not a power cut).' },
    max_file_bytes: { type: 'integer', default: 134_217_728, min: 1, doc: 'A file is finalised (`.arrows` → `.arrow`) once it holds this many bytes.' },
    max_file_rows: { type: 'integer', default: 0, min: 0, doc: '… or this many rows (0: no limit).' },
    max_file_age_ms: { type: 'integer', default: 0, min: 0, doc: '… or is this many ms old (0: no limit).' },
    idle_close_ms: { type: 'integer', default: 60_000, min: 1, doc: 'A file not written to for this many ms is finalised (e.g. yesterday\'s file of a `{{ date }}` template).' },
    max_open_files: { type: 'integer', default: 16, min: 1, max: 4096, doc: 'Files written at once; beyond it the least recently written is finalised.' },
    unique_key: { type: 'string', nonEmpty: true, doc: 'Template of an event key (sees payload fields, metadata, `source`), e.g. `{{ id }}`: an event whose key was archived before — also before a restart — is counted as a duplicate and not written again.' },
    time_key: { type: 'string', nonEmpty: true, doc: 'Payload field or metadata key holding the event time (a number); the last archived value is kept per source.' },
    forward_only: { type: 'boolean', default: false, doc: 'With `time_key`: an event older than its source\'s last archived time is dead-lettered (`ARCHIVER_LATE_EVENT`).' },
    datasource: { type: 'boolean', doc: "Each event is a HEROS datasource's `observable_data`: a list of readings (dicts with `id`, `value`, `unit`, `raw_value`, `raw_unit`, `time`, `inbound`, `calibrated`), each written as a row; such events carry no metadata, so only `default_metadata` reaches `metadata_columns` and the templates. Default: true when `event_name` is `observable_data`." },
    archive_dir: { type: 'string', nonEmpty: true, doc: 'Folder scanned at start for unfinished `.arrows` files, keys and watermarks; default: the fixed folder part of `save_template` before its first `{`.' },
  };

  readonly #template: CompiledTemplate;
  readonly #keyTemplate: CompiledTemplate | undefined;
  readonly #metadataColumns: readonly string[];
  /** `#metadataColumns` without repeats (the keys they give a row). */
  readonly #metaNames: readonly string[];
  readonly #metaSet: ReadonlySet<string>;
  readonly #declared: boolean;
  #columns: readonly ColumnSpec[] | undefined;
  /** When `#columns` were taken up (ms since the epoch, increasing with each change). */
  #columnsSince = 0;
  readonly #slots = new Map<string, Slot>();
  /** Stream files owned by a live slot: lazy recovery must not finalise them. */
  readonly #ownedStreams = new Set<string>();
  readonly #keys = new Set<string>();
  readonly #pendingKeys = new Map<string, Promise<boolean>>();
  readonly #watermarks = new Map<string, number>();
  readonly #stats: ArrowArchiverStats = { rows: 0, batches: 0, duplicates: 0, filesFinalized: 0 };
  #ticker: NodeJS.Timeout | undefined;
  #dateSecond = Number.NaN;
  #dateParts: Record<string, string> = {};
  readonly #resolved = new Map<string, string>();
  /** save_template reads only `source` and the date parts: resolved path by source, this hour. */
  readonly #pathBySource: boolean;
  readonly #pathCache = new Map<string, string>();
  #pathHour = '';
  #plan: FitPlan | undefined;
  /** Abort watches by signal; an entry goes when its last row settles (a Map: cheaper than a WeakMap). */
  readonly #waiting = new Map<AbortSignal, AbortWatch>();
  /** Finalisations running in the background (awaited by stop). */
  readonly #finalizing = new Set<Promise<void>>();
  /** Events are datasource readings (see the `datasource` option). */
  readonly #datasource: boolean;

  constructor(options: ArrowArchiverOptions, context: ActorContext) {
    super(options, context);
    const problems: ConfigProblem[] = [];
    const problem = (where: string, message: string, code: ConfigProblem['code'] = 'ARCHIVER_OPTIONS_INVALID'): void => {
      problems.push({ code, path: where, message, actorId: context.id });
    };
    const compile = (where: string, src: string): CompiledTemplate | undefined => {
      try {
        return compileTemplate(src);
      } catch (err) {
        problem(where, (err as Error).message, 'ARCHIVER_TEMPLATE_INVALID');
        return undefined;
      }
    };
    const template = compile('save_template', options.save_template);
    this.#keyTemplate = options.unique_key === undefined ? undefined : compile('unique_key', options.unique_key);
    const mc = options.metadata_columns ?? [];
    if (!Array.isArray(mc) || !mc.every((c) => typeof c === 'string' && c !== '')) problem('metadata_columns', 'expected a list of metadata key names (strings)');
    this.#metadataColumns = Array.isArray(mc) ? mc.filter((c): c is string => typeof c === 'string') : [];
    for (const c of this.#metadataColumns) if (RESERVED.has(c)) problem('metadata_columns', `"${c}" is a column of its own (source, received_at, _key)`);
    this.#metaSet = new Set(this.#metadataColumns);
    this.#metaNames = [...this.#metaSet];
    this.#declared = options.schema !== undefined;
    if (options.schema !== undefined) {
      const cols: ColumnSpec[] = [];
      for (const [name, kind] of Object.entries(options.schema)) {
        const k = typeof kind === 'string' ? parseKind(kind) : undefined;
        if (k === undefined) problem(`schema.${name}`, `expected a column kind (int64, float64, bool, utf8, binary, null, int8…uint64, float32, <kind>[n]), got ${JSON.stringify(kind)}`);
        else if (RESERVED.has(name)) problem(`schema.${name}`, `"${name}" is a column of its own`);
        else cols.push({ name, kind: k });
      }
      for (const c of this.#metadataColumns) if (!cols.some((x) => x.name === c)) problem('schema', `metadata column "${c}" is missing from the declared schema`);
      this.#adopt(this.#withKey(orderColumns(cols, this.#metadataColumns)));
    }
    if (options.forward_only && options.time_key === undefined) problem('forward_only', 'needs time_key');
    if ((options.unique_key !== undefined || options.time_key !== undefined) && this.#scanDirText() === undefined) {
      problem('archive_dir', 'unique_key and time_key are rebuilt from the files at start: save_template has no fixed folder, so set archive_dir');
    }
    if (problems.length > 0) throw new ConfigError(problems);
    this.#template = template!;
    this.#datasource = options.datasource ?? options.event_name === 'observable_data';
    this.#pathBySource = this.#template.variables.every((v) => PATH_NAMES.has(v));
  }

  /** Counters of rows, batches, duplicates and finalised files. */
  arrowStats(): ArrowArchiverStats {
    return { ...this.#stats };
  }

  protected override async onStart(): Promise<void> {
    // Before the DataArchiver starts storing (spooled events first): the key set and the
    // watermarks must reflect what is on disk, and leftover streams must be files again.
    await this.#recover();
    const tick = Math.max(50, Math.min(1_000, this.options.idle_close_ms ?? 60_000));
    this.#ticker = setInterval(() => this.#onTick(), tick);
    this.#ticker.unref();
    await super.onStart();
  }

  protected override async onStop(): Promise<void> {
    try {
      await super.onStop();
    } finally {
      if (this.#ticker !== undefined) clearInterval(this.#ticker);
      await Promise.allSettled([...this.#slots.values()].map((s) => this.#retire(s)));
      await Promise.allSettled([...this.#finalizing]);
    }
  }

  override store(source: string, payload: PyValue, metadata: Metadata, context: StoreContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const group = this.#group(context.signal, 1, (errors) => (errors === undefined ? resolve() : reject(errors[0])));
      this.#take(group, 0, source, payload, metadata, context.receivedAt);
    });
  }

  /** Rows of a batch go to their files' batches together, with one promise and one abort watch. */
  override storeBatch(events: readonly BatchEvent[], signal: AbortSignal): Promise<readonly unknown[]> {
    return new Promise<readonly unknown[]>((resolve) => {
      const group = this.#group(signal, events.length, (errors) => resolve(errors ?? new Array<unknown>(events.length)));
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        this.#take(group, i, e.source, e.payload, e.metadata, e.receivedAt);
      }
    });
  }

  /** A batch of rows: the queue hands over the events of one turn of the loop, up to `batch_rows`. */
  protected override maxStoreBatch(): number {
    return this.options.batch_rows ?? 1024;
  }

  /** A datasource event is the list of readings itself, without metadata. */
  protected override splitEvent(data: PyValue): ReturnType<DataArchiver['splitEvent']> {
    if (!this.#datasource) return super.splitEvent(data);
    if (!Array.isArray(data)) return `got ${data === null ? 'None' : typeof data}, expected a datasource's list of readings`;
    return { payload: data, metadata: {} };
  }

  #group(signal: AbortSignal, size: number, done: (errors: unknown[] | undefined) => void): RowGroup {
    return { signal, size, left: size, errors: undefined, slots: [], done, watch: undefined };
  }

  /** Event `index` of `group`: checked, then buffered as a row (or settled at once). */
  #take(group: RowGroup, index: number, source: string, payload: PyValue, metadata: Metadata, receivedAt: number): void {
    try {
      if (this.#datasource) this.#storeReadings(group, index, source, payload, metadata, receivedAt);
      else this.#store(group, index, source, payload, metadata, receivedAt);
    } catch (err) {
      this.#settleFailed(group, index, err);
    }
  }

  #settleStored(group: RowGroup): void {
    if (--group.left === 0) this.#groupDone(group);
  }

  #settleFailed(group: RowGroup, index: number, err: unknown): void {
    (group.errors ??= new Array<unknown>(group.size))[index] = err ?? new Error('row not stored');
    if (--group.left === 0) this.#groupDone(group);
  }

  #groupDone(group: RowGroup): void {
    this.#unwatch(group);
    group.done(group.errors);
  }

  /**
   * store() without the async function around it. The checks run in the order they always
   * did: payload, reserved names, duplicate key, schema fit, watermark; the row's values are
   * converted while the payload is checked, and any row that does not simply fit is fitted
   * again by {@link #fit} (which widens or gives the dead-letter reasons).
   */
  #store(group: RowGroup, index: number, source: string, payload: PyValue, metadata: Metadata, receivedAt: number): void {
    const values = this.#convertRow(payload, metadata, 'ArrowArchiver needs a dict payload (one row per event)');
    if (this.#keyTemplate !== undefined) {
      const key = this.#keyOf(source, payload, metadata);
      if (this.#keys.has(key)) return this.#duplicate(group);
      if (this.#pendingKeys.has(key)) return this.#afterInFlight(group, index, source, payload, metadata, receivedAt, key, true);
      return this.#storeRow(group, index, source, payload, metadata, receivedAt, values, key, true);
    }
    return this.#storeRow(group, index, source, payload, metadata, receivedAt, values, undefined, true);
  }

  /**
   * A datasource event: every reading becomes a row. All readings are checked, converted and
   * checked against the watermark before any is buffered, so an event is written whole or not
   * at all (its rows then go to disk in one batch); the event is stored once all its rows are.
   */
  #storeReadings(group: RowGroup, index: number, source: string, readings: PyValue, metadata: Metadata, receivedAt: number): void {
    if (!Array.isArray(readings)) {
      throw new UnrecoverableError(`a datasource event is a list of readings, got ${readings === null ? 'None' : typeof readings}`, { actorId: this.id }, 'ARCHIVER_PAYLOAD_MISMATCH');
    }
    if (readings.length === 0) return this.#settleStored(group);
    const notDict = 'a datasource reading must be a dict';
    let columns: readonly ColumnSpec[] | undefined;
    let values: unknown[][];
    do {
      // A reading that widens the columns makes the others be converted again to the new ones.
      columns = this.#columns;
      values = readings.map((r) => this.#convertRow(r, metadata, notDict) ?? this.#fit(this.#dataOf(r, metadata)));
    } while (this.#columns !== columns);
    let latest: number | undefined;
    for (const r of readings) {
      const t = this.#eventTime(source, r, metadata);
      if (t !== undefined && (latest === undefined || t > latest)) latest = t;
    }
    if (latest !== undefined) this.#advanceWatermark(source, latest);
    // The event settles when each of its rows has.
    group.left += readings.length - 1;
    for (let k = 0; k < readings.length; k++) {
      const r = readings[k]!;
      if (this.#keyTemplate === undefined) {
        this.#storeRow(group, index, source, r, metadata, receivedAt, values[k], undefined, false);
        continue;
      }
      const key = this.#keyOf(source, r, metadata);
      if (this.#keys.has(key)) this.#duplicate(group);
      else if (this.#pendingKeys.has(key)) this.#afterInFlight(group, index, source, r, metadata, receivedAt, key, false);
      else this.#storeRow(group, index, source, r, metadata, receivedAt, values[k], key, false);
    }
  }

  /** The `unique_key` of a row: the template over metadata, the row's fields and `source`. */
  #keyOf(source: string, payload: PyValue, metadata: Metadata): string {
    const fieldsObject = payload instanceof Map ? Object.fromEntries(payload as Map<string, PyValue>) : (payload as Record<string, PyValue>);
    return this.#keyTemplate!.render({ ...metadata, ...fieldsObject, source });
  }

  /**
   * The same row (a re-delivery) is being written right now: its outcome decides — a duplicate
   * once it is stored, else the row is written (fitted then, as the columns may have changed).
   */
  #afterInFlight(group: RowGroup, index: number, source: string, payload: PyValue, metadata: Metadata, receivedAt: number, key: string, checkTime: boolean): void {
    void this.#pendingKeys
      .get(key)!
      .catch(() => false)
      .then((wasStored) => {
        if (wasStored || this.#keys.has(key)) this.#duplicate(group);
        else this.#storeRow(group, index, source, payload, metadata, receivedAt, undefined, key, checkTime);
      })
      .catch((err: unknown) => this.#settleFailed(group, index, err));
  }

  /**
   * Checks a row's names and converts its values to the current columns while doing so: the
   * values when the row simply fits them, undefined when it must go through {@link #fit}
   * (columns to infer or widen, or the reasons it does not fit). Throws `notDict` (payload
   * mismatch) for a row that is not a dict, and for a field that clashes with a column.
   */
  #convertRow(payload: PyValue, metadata: Metadata, notDict: string): unknown[] | undefined {
    const isMap = payload instanceof Map;
    if (!isMap && (payload === null || typeof payload !== 'object' || Object.getPrototypeOf(payload) !== Object.prototype)) {
      throw new UnrecoverableError(notDict, { actorId: this.id }, 'ARCHIVER_PAYLOAD_MISMATCH');
    }
    const plan = this.#columns === undefined ? undefined : this.#fitPlan();
    let values: unknown[] | undefined;
    let fits = plan !== undefined;
    if (plan !== undefined) {
      values = new Array<unknown>(plan.dataColumns.length);
      for (let i = 0; i < values.length; i++) values[i] = null;
      const metaIndex = plan.metaIndex;
      for (let k = 0; k < metaIndex.length; k++) {
        const i = metaIndex[k]!;
        if (i < 0) fits = false;
        else fits = this.#convert(plan, values, i, metadata[this.#metaNames[k]!] ?? null) && fits;
      }
    }
    // A field that is a payload column of the plan passes the name checks; any other field is
    // checked (and does not fit).
    const fields = plan?.fieldIndex;
    if (isMap) {
      const map = payload as Map<unknown, PyValue>;
      for (const k of map.keys()) {
        if (typeof k !== 'string') throw new UnrecoverableError(`payload dict key ${String(k)} is not a string`, {}, 'ARCHIVER_PAYLOAD_MISMATCH');
      }
      for (const [name, v] of map as Map<string, PyValue>) {
        const i = fields?.get(name);
        if (i === undefined) {
          this.#checkName(name);
          fits = false;
        } else if (fits) fits = this.#convert(plan!, values!, i, v);
      }
    } else {
      const obj = payload as Record<string, PyValue>;
      // for…in: no array of keys per row (the prototype is Object.prototype, checked above).
      for (const name in obj) {
        const i = fields?.get(name);
        if (i === undefined) {
          this.#checkName(name);
          fits = false;
        } else if (fits) fits = this.#convert(plan!, values!, i, obj[name]);
      }
    }
    return fits ? values : undefined;
  }

  /** A payload field must not be a column of its own nor a metadata column. */
  #checkName(name: string): void {
    if (RESERVED.has(name)) throw new UnrecoverableError(`payload field "${name}" clashes with the ${name} column`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
    if (this.#metaSet.has(name)) throw new UnrecoverableError(`payload field "${name}" is also a metadata column`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
  }

  /** Puts column `i`'s value of `v` into `values`; false when it does not fit. */
  #convert(plan: FitPlan, values: unknown[], i: number, v: PyValue): boolean {
    try {
      values[i] = plan.converters[i]!(v);
      return true;
    } catch {
      return false;
    }
  }

  /** The rest of store() once the key is known not to be a duplicate. */
  #storeRow(group: RowGroup, index: number, source: string, payload: PyValue, metadata: Metadata, receivedAt: number, converted: unknown[] | undefined, key: string | undefined, checkTime: boolean): void {
    const values = converted ?? this.#fit(this.#dataOf(payload, metadata));
    if (checkTime) {
      const t = this.#eventTime(source, payload, metadata);
      if (t !== undefined) this.#advanceWatermark(source, t);
    }
    const logical = this.#renderPath(source, metadata, receivedAt);
    if (key !== undefined) values.push(key);
    const row: Row = { source, receivedAt, values };
    this.#enqueue(logical, row, key, group, index);
  }

  /**
   * A row's `time_key` value (undefined without `time_key`, or when it is not a number and
   * `forward_only` is off); with `forward_only`, throws when it is missing or older than the
   * source's watermark (`ARCHIVER_LATE_EVENT`).
   */
  #eventTime(source: string, payload: PyValue, metadata: Metadata): number | undefined {
    const timeKey = this.options.time_key;
    if (timeKey === undefined) return undefined;
    const raw = payloadField(payload, timeKey) ?? metadata[timeKey];
    const t = eventTime(raw);
    if (t === undefined) {
      if (this.options.forward_only) {
        throw new UnrecoverableError(`time_key "${timeKey}" is ${raw === undefined ? 'missing' : `not a number (${typeof raw})`}`, { actorId: this.id }, 'ARCHIVER_PAYLOAD_MISMATCH');
      }
      return undefined;
    }
    const last = this.#watermarks.get(source);
    if (this.options.forward_only && last !== undefined && t < last) {
      throw new UnrecoverableError(`event of ${source} at ${timeKey}=${t} is older than the last archived ${last}`, { actorId: this.id }, 'ARCHIVER_LATE_EVENT');
    }
    return t;
  }

  #advanceWatermark(source: string, t: number): void {
    const last = this.#watermarks.get(source);
    if (last === undefined || t > last) this.#watermarks.set(source, t);
  }

  /** The row's named values: metadata columns, then the payload's fields. */
  #dataOf(payload: PyValue, metadata: Metadata): Map<string, PyValue> {
    const fields = payloadFields(payload);
    const data = new Map<string, PyValue>();
    for (const c of this.#metadataColumns) data.set(c, metadata[c] ?? null);
    for (const [name, v] of fields) {
      if (RESERVED.has(name)) throw new UnrecoverableError(`payload field "${name}" clashes with the ${name} column`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
      if (data.has(name)) throw new UnrecoverableError(`payload field "${name}" is also a metadata column`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
      data.set(name, v);
    }
    return data;
  }

  /** The converters of the current columns (compiled when the columns were set or widened). */
  #fitPlan(): FitPlan {
    const columns = this.#columns!;
    if (this.#plan?.columns === columns) return this.#plan;
    const dataColumns = columns.filter((c) => c.name !== KEY_COLUMN);
    const index = new Map<string, number>();
    dataColumns.forEach((c, i) => {
      if (!index.has(c.name)) index.set(c.name, i);
    });
    const plan: FitPlan = {
      columns,
      dataColumns,
      converters: dataColumns.map((c) => columnConverter(c.kind)),
      index,
      fieldIndex: new Map([...index].filter(([name]) => !this.#metaSet.has(name) && !RESERVED.has(name))),
      metaIndex: this.#metaNames.map((n) => index.get(n) ?? -1),
    };
    this.#plan = plan;
    return plan;
  }

  #duplicate(group: RowGroup): void {
    this.#stats.duplicates++;
    this.#settleStored(group);
  }

  /** `save_template` with metadata, `source` and the receive time's date parts (UTC). */
  #renderPath(source: string, metadata: Metadata, receivedAt: number): string {
    const second = Math.floor(receivedAt / 1000);
    if (second !== this.#dateSecond) {
      const iso = new Date(receivedAt).toISOString();
      this.#dateSecond = second;
      this.#dateParts = { date: iso.slice(0, 10), year: iso.slice(0, 4), month: iso.slice(5, 7), day: iso.slice(8, 10), hour: iso.slice(11, 13) };
      const hour = iso.slice(0, 13);
      if (hour !== this.#pathHour) {
        this.#pathHour = hour;
        this.#pathCache.clear();
      }
    }
    if (this.#pathBySource) {
      const hit = this.#pathCache.get(source);
      if (hit !== undefined) return hit;
    }
    let rendered = this.#template.render({ ...metadata, source, ...this.#dateParts });
    if (!rendered.endsWith('.arrow')) rendered += '.arrow';
    // Every row of a file renders the same name: resolving (and checking) it once is enough.
    let resolved = this.#resolved.get(rendered);
    if (resolved === undefined) {
      resolved = this.resolvePath(rendered);
      if (this.#resolved.size >= 1024) this.#resolved.clear();
      this.#resolved.set(rendered, resolved);
    }
    if (this.#pathBySource) {
      // Nothing else reaches the template: the same source renders the same name all hour.
      if (this.#pathCache.size >= 1024) this.#pathCache.clear();
      this.#pathCache.set(source, resolved);
    }
    return resolved;
  }

  /** Converts a row to the current columns, inferring or widening them as allowed. */
  #fit(data: Map<string, PyValue>): unknown[] {
    if (this.#columns === undefined) {
      const inferred: ColumnSpec[] = [];
      for (const [name, v] of data) inferred.push({ name, kind: this.#kind(v, name) });
      this.#adopt(this.#withKey(inferred));
    }
    const columns = this.#columns!.filter((c) => c.name !== KEY_COLUMN);
    const misfits: string[] = [];
    const values: unknown[] = [];
    for (const c of columns) {
      try {
        values.push(toColumnValue(data.get(c.name) ?? null, c.kind));
      } catch (err) {
        if (!(err instanceof MisfitError)) throw err;
        misfits.push(`${c.name}: ${err.message}`);
      }
    }
    const extra = [...data.keys()].filter((n) => !columns.some((c) => c.name === n));
    for (const n of extra) misfits.push(`${n}: not a column of the schema`);
    if (misfits.length === 0) return values;
    if (this.options.schema_evolution !== 'widen') {
      throw new UnrecoverableError(`event does not fit the schema (${misfits.join('; ')})`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
    }
    const widened: ColumnSpec[] = [];
    for (const c of columns) {
      const v = data.get(c.name) ?? null;
      const kind = widenKind(c.kind, this.#kind(v, c.name));
      if (kind === undefined) {
        throw new UnrecoverableError(`event does not fit the schema and cannot widen it (${c.name}: ${c.kind} cannot hold ${inferKind(v)})`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
      }
      widened.push({ name: c.name, kind });
    }
    for (const n of extra) widened.push({ name: n, kind: this.#kind(data.get(n) ?? null, n) });
    this.#adopt(this.#withKey(widened));
    this.logger.info({ columns: this.#columns }, 'schema widened; the next rows go to a new file');
    return this.#fit(data);
  }

  /** Takes up `columns` as the current ones, `since` then (later than the columns before). */
  #adopt(columns: readonly ColumnSpec[], since = Math.max(Date.now(), this.#columnsSince + 1)): void {
    this.#columns = columns;
    this.#columnsSince = since;
  }

  #kind(v: PyValue, name: string): string {
    try {
      return inferKind(v);
    } catch (err) {
      if (err instanceof MisfitError) throw new UnrecoverableError(`${name}: ${err.message}`, { actorId: this.id }, 'ARCHIVER_SCHEMA_MISMATCH');
      throw err;
    }
  }

  #withKey(columns: ColumnSpec[]): ColumnSpec[] {
    return this.options.unique_key === undefined ? columns : [...columns, { name: KEY_COLUMN, kind: 'utf8' }];
  }

  #enqueue(logical: string, row: Row, key: string | undefined, group: RowGroup, index: number): void {
    let slot = this.#slots.get(logical);
    if (slot !== undefined && slot.columns !== this.#columns) {
      // The schema widened: this file keeps its schema, the row starts a new one.
      void this.#retire(slot);
      slot = undefined;
    }
    if (slot === undefined) slot = this.#openSlot(logical);
    const s = slot;
    let settle: ((ok: boolean) => void) | undefined;
    if (key !== undefined) this.#pendingKeys.set(key, new Promise<boolean>((r) => (settle = r)));
    const pending: PendingRow = { row, key, slot: s, group, index, settle };
    if (group.signal.aborted) {
      this.#rejectRow(pending, group.signal.reason);
      return;
    }
    if (group.watch === undefined) this.#watch(group);
    const slots = group.slots;
    if (slots[slots.length - 1] !== s && !slots.includes(s)) slots.push(s);
    s.batch.push(pending);
    s.lastWriteAt = Date.now();
    if (s.batch.length >= (this.options.batch_rows ?? 64)) this.#scheduleFlush(s, 0);
    else if (s.timer === undefined) this.#scheduleFlush(s, this.options.batch_ms ?? 20);
  }

  /** The row is on disk. */
  #resolveRow(p: PendingRow): void {
    if (p.key !== undefined) {
      this.#keys.add(p.key);
      this.#pendingKeys.delete(p.key);
      p.settle!(true);
    }
    this.#settleStored(p.group);
  }

  /** The row is not written (its batch failed, or its store was aborted). */
  #rejectRow(p: PendingRow, err: unknown): void {
    if (p.key !== undefined) {
      this.#pendingKeys.delete(p.key);
      p.settle!(false);
    }
    this.#settleFailed(p.group, p.index, err);
  }

  /**
   * Aborting a group's signal while rows of it still wait in memory takes them out and rejects
   * them, so a retry cannot write a row twice (rows already in a batch being written stay).
   */
  #watch(group: RowGroup): void {
    const signal = group.signal;
    let w = this.#waiting.get(signal);
    if (w === undefined) {
      const watch: AbortWatch = {
        one: undefined,
        many: undefined,
        onAbort: () => {
          if (this.#waiting.get(signal) === watch) this.#waiting.delete(signal);
          const groups = watch.many !== undefined ? new Set(watch.many) : new Set(watch.one === undefined ? [] : [watch.one]);
          const slots = new Set<Slot>();
          for (const g of groups) for (const s of g.slots) slots.add(s);
          const out: PendingRow[] = [];
          for (const s of slots) {
            if (!s.batch.some((r) => groups.has(r.group))) continue;
            const keep: PendingRow[] = [];
            for (const r of s.batch) (groups.has(r.group) ? out : keep).push(r);
            s.batch = keep;
          }
          for (const r of out) this.#rejectRow(r, signal.reason);
        },
      };
      w = watch;
      this.#waiting.set(signal, w);
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    if (w.many !== undefined) w.many.add(group);
    else if (w.one === undefined) w.one = group;
    else {
      w.many = new Set([w.one, group]);
      w.one = undefined;
    }
    group.watch = w;
  }

  #unwatch(group: RowGroup): void {
    const w = group.watch;
    if (w === undefined) return;
    group.watch = undefined;
    if (w.many !== undefined) w.many.delete(group);
    else if (w.one === group) w.one = undefined;
    if (w.one === undefined && (w.many === undefined || w.many.size === 0)) {
      group.signal.removeEventListener('abort', w.onAbort);
      if (this.#waiting.get(group.signal) === w) this.#waiting.delete(group.signal);
    }
  }

  #openSlot(logical: string): Slot {
    const max = this.options.max_open_files ?? 16;
    if (this.#slots.size >= max) {
      const oldest = [...this.#slots.values()].sort((a, b) => a.lastWriteAt - b.lastWriteAt)[0];
      if (oldest !== undefined) void this.#retire(oldest);
    }
    const slot: Slot = { logical, columns: this.#columns!, schemaSince: this.#columnsSince, file: undefined, batch: [], timer: undefined, chain: Promise.resolve(), lastWriteAt: Date.now(), retired: false };
    this.#slots.set(logical, slot);
    return slot;
  }

  #scheduleFlush(slot: Slot, delayMs: number): void {
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    if (delayMs === 0) {
      // A full batch goes now: a 0 ms timer still waits about 1 ms, which caps small rows at
      // about batch_rows × 1000 rows/s.
      slot.chain = slot.chain.then(() => this.#flush(slot));
      return;
    }
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      slot.chain = slot.chain.then(() => this.#flush(slot));
    }, delayMs);
  }

  /** Writes the slot's buffered rows as one batch; runs on the slot's chain only. */
  async #flush(slot: Slot): Promise<void> {
    const batch = slot.batch.splice(0);
    if (batch.length === 0) return;
    try {
      if (slot.file === undefined || slot.file.closed) slot.file = await this.#createFile(slot);
      const file = slot.file;
      await file.append(rowsToBatch(file.schema, batch.map((p) => p.row)));
      this.#stats.rows += batch.length;
      this.#stats.batches++;
      for (const p of batch) this.#resolveRow(p);
      // Not awaited: finalising reads the stream back and rewrites it, and the next rows of
      // this name go to a new file meanwhile instead of waiting for it.
      if (this.#full(file)) void this.#finalize(slot);
    } catch (err) {
      for (const p of batch) this.#rejectRow(p, err);
    }
  }

  #full(file: ArrowStreamFile): boolean {
    const maxRows = this.options.max_file_rows ?? 0;
    const maxAge = this.options.max_file_age_ms ?? 0;
    return file.bytes >= (this.options.max_file_bytes ?? 134_217_728) || (maxRows > 0 && file.rows >= maxRows) || (maxAge > 0 && Date.now() - file.openedAt >= maxAge);
  }

  /** The next free `<base>.arrow`, `<base>.1.arrow`, …; leftover streams found on the way are finalised. */
  async #createFile(slot: Slot): Promise<ArrowStreamFile> {
    const base = slot.logical.slice(0, -'.arrow'.length);
    for (let i = 0; ; i++) {
      const finalPath = i === 0 ? `${base}.arrow` : `${base}.${i}.arrow`;
      const streamPath = streamPathOf(finalPath);
      if (this.#ownedStreams.has(streamPath)) continue;
      // Reserved before the first await: a retiring slot of the same name may be creating its
      // file right now, and its stream must never be taken for a crash's leftover.
      this.#ownedStreams.add(streamPath);
      try {
        return await ArrowStreamFile.create(finalPath, fileSchema(slot.columns, slot.schemaSince), this.options.fsync ?? 'batch');
      } catch (err) {
        this.#ownedStreams.delete(streamPath);
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // A stream nobody writes is a crash's leftover: make it a file, then move on.
        if (!(await fileExists(finalPath))) await this.#finalizeLeftover(streamPath);
      }
    }
  }

  #finalize(slot: Slot): Promise<void> {
    const file = slot.file;
    slot.file = undefined;
    if (file === undefined) return Promise.resolve();
    const done = this.#finalizeFile(file);
    this.#finalizing.add(done);
    void done.finally(() => this.#finalizing.delete(done));
    return done;
  }

  async #finalizeFile(file: ArrowStreamFile): Promise<void> {
    try {
      const res = await file.finalize();
      if (res.file !== undefined) this.#stats.filesFinalized++;
    } catch (err) {
      // The stream stays on disk with every batch written; the next start finalises it.
      this.logger.error({ err, file: file.streamPath }, 'finalising an Arrow stream failed; it is finalised at the next start');
    } finally {
      this.#ownedStreams.delete(file.streamPath);
    }
  }

  /** Flushes what is buffered, finalises the file and forgets the slot. */
  #retire(slot: Slot): Promise<void> {
    if (!slot.retired) {
      slot.retired = true;
      if (this.#slots.get(slot.logical) === slot) this.#slots.delete(slot.logical);
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.chain = slot.chain.then(() => this.#flush(slot)).then(() => this.#finalize(slot));
    }
    return slot.chain;
  }

  #onTick(): void {
    const now = Date.now();
    const idle = this.options.idle_close_ms ?? 60_000;
    const maxAge = this.options.max_file_age_ms ?? 0;
    for (const slot of this.#slots.values()) {
      if (slot.batch.length === 0 && now - slot.lastWriteAt >= idle) void this.#retire(slot);
      else if (maxAge > 0 && slot.file !== undefined && now - slot.file.openedAt >= maxAge) {
        slot.chain = slot.chain.then(() => (slot.file !== undefined && this.#full(slot.file) ? this.#finalize(slot) : undefined));
      }
    }
  }

  async #finalizeLeftover(streamPath: string): Promise<void> {
    const res = await finalizeStreamFile(streamPath, { fsync: this.options.fsync ?? 'batch' });
    this.logger.warn({ file: streamPath, rows: res.rows, tornBytes: res.tornBytes }, 'finalised an Arrow stream left by a crash');
  }

  /**
   * Without a declared schema: the columns of the newest file under the archive folder are the
   * current columns, as if the archiver had never stopped. Newest is the latest `schema_since`
   * (when the archiver took up the file's columns) among the files written in the last minute
   * before the newest one (by modification time — when its last batch was written): files of
   * one schema change are written side by side, so the last written need not hold the latest
   * columns. Files without it (older versions) come by modification time, then name. A file
   * whose schema cannot be continued (a type that is no column kind, a metadata column
   * missing) leaves the columns to the first event.
   */
  async #continueSchema(dir: string): Promise<void> {
    const files: { file: string; mtime: bigint }[] = [];
    for (const file of await listFiles(dir, '.arrow')) {
      try {
        files.push({ file, mtime: (await stat(file, { bigint: true })).mtimeNs });
      } catch {
        // Gone since it was listed.
      }
    }
    // Newest first; within one timestamp tick, the later name (`x.2.arrow` after `x.1.arrow` after `x.arrow`).
    files.sort((a, b) => (a.mtime !== b.mtime ? (a.mtime < b.mtime ? 1 : -1) : -compareNames(a.file, b.file)));
    const recent = files.filter((f) => f.mtime >= files[0]!.mtime - SCHEMA_WINDOW_NS);
    const schemas = new Map<string, Schema | Error>();
    for (const { file } of recent) schemas.set(file, await readFileSchema(file).catch((err: Error) => err));
    const since = (file: string): number => {
      const s = schemas.get(file);
      return (s instanceof Schema ? schemaSince(s) : undefined) ?? -1;
    };
    const ordered = [...recent.sort((a, b) => since(b.file) - since(a.file)), ...files.slice(recent.length)];
    for (const { file } of ordered) {
      let schema: Schema;
      try {
        const known = schemas.get(file);
        if (known instanceof Error) throw known;
        schema = known ?? (await readFileSchema(file));
      } catch (err) {
        this.logger.warn({ err, file }, 'cannot read the schema of the newest Arrow file; trying the one before it');
        continue;
      }
      const found = columnsOfFileSchema(schema);
      const missing = 'problem' in found ? undefined : this.#metadataColumns.find((c) => !found.columns.some((x) => x.name === c));
      if ('problem' in found || missing !== undefined) {
        const problem = 'problem' in found ? found.problem : `metadata column "${missing}" is not one of its columns`;
        this.logger.warn({ file, problem }, 'the newest Arrow file has a schema the archiver cannot continue; the first event decides the columns');
        return;
      }
      this.#adopt(this.#withKey(orderColumns(found.columns.filter((c) => c.name !== KEY_COLUMN), this.#metadataColumns)), schemaSince(schema));
      this.logger.info({ file, columns: this.#columns }, 'schema continued from the newest archived file');
      return;
    }
  }

  #scanDirText(): string | undefined {
    return arrowArchiveDir(this.options);
  }

  /**
   * At start: finalise leftover streams under the archive folder, then rebuild the key set and
   * watermarks from the files (the key set costs memory per archived key; see README).
   */
  async #recover(): Promise<void> {
    const text = this.#scanDirText();
    if (text === undefined) return;
    const dir = this.resolvePath(text);
    // A finalisation cut short leaves its temporary file (`.<name>.arrow.<tag>-<n>.tmp`, or
    // `.<name>.arrow.<hex>.tmp` from earlier versions); the stream it came from is still there
    // (it is removed only after the rename), so the temporary file is only a copy. A stream's
    // creation cut short leaves `.<name>.arrows.<tag>-<n>.tmp`, holding only a schema.
    for (const tmp of await listFiles(dir, '.tmp', true)) {
      if (FINALIZE_TMP.test(path.basename(tmp))) await unlink(tmp).catch(() => undefined);
    }
    const streams = await listFiles(dir, '.arrows');
    for (const s of streams) await this.#finalizeLeftover(s);
    if (!this.#declared) await this.#continueSchema(dir);
    if (this.options.unique_key === undefined && this.options.time_key === undefined) return;
    const timeKey = this.options.time_key;
    let files = 0;
    for (const f of await listFiles(dir, '.arrow')) {
      const table = tableFromIPC(await readFile(f));
      const keys = this.options.unique_key === undefined ? null : table.getChild(KEY_COLUMN);
      const sources = table.getChild(SOURCE_COLUMN);
      const times = timeKey === undefined ? null : table.getChild(timeKey);
      for (let i = 0; i < table.numRows; i++) {
        const k = keys?.get(i);
        if (typeof k === 'string') this.#keys.add(k);
        const t = times?.get(i);
        const src = sources?.get(i);
        if (t !== null && t !== undefined && typeof src === 'string') {
          const n = Number(t);
          const last = this.#watermarks.get(src);
          if (Number.isFinite(n) && (last === undefined || n > last)) this.#watermarks.set(src, n);
        }
      }
      files++;
    }
    this.logger.info({ files, keys: this.#keys.size, sources: this.#watermarks.size }, 'rebuilt keys and watermarks from the archive');
  }
}

/** A dict payload's fields in order; anything else cannot be a row. */
function payloadFields(payload: PyValue): Map<string, PyValue> {
  if (payload instanceof Map) {
    const out = new Map<string, PyValue>();
    for (const [k, v] of payload) {
      if (typeof k !== 'string') throw new UnrecoverableError(`payload dict key ${String(k)} is not a string`, {}, 'ARCHIVER_PAYLOAD_MISMATCH');
      out.set(k, v);
    }
    return out;
  }
  if (payload !== null && typeof payload === 'object' && Object.getPrototypeOf(payload) === Object.prototype) {
    return new Map(Object.entries(payload as Record<string, PyValue>));
  }
  throw new UnrecoverableError('ArrowArchiver needs a dict payload (one row per event)', {}, 'ARCHIVER_PAYLOAD_MISMATCH');
}

/** A dict payload's field (as payloadFields() would give it), undefined when it has none. */
function payloadField(payload: PyValue, name: string): PyValue {
  if (payload instanceof Map) return (payload as Map<unknown, PyValue>).get(name);
  const obj = payload as Record<string, PyValue>;
  return Object.prototype.propertyIsEnumerable.call(obj, name) ? obj[name] : undefined;
}

/** Metadata columns first (in option order), then the payload's fields. */
function orderColumns(cols: ColumnSpec[], metadataColumns: readonly string[]): ColumnSpec[] {
  const meta = metadataColumns.map((n) => cols.find((c) => c.name === n)!).filter(Boolean);
  return [...meta, ...cols.filter((c) => !metadataColumns.includes(c.name))];
}

function eventTime(v: PyValue): number | undefined {
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat) {
    const n = toNumber(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

async function fileExists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Orders file names as they are written: by name, `<base>.<n>.arrow` after `<base>.arrow` by n. */
function compareNames(a: string, b: string): number {
  const split = (p: string): [string, number] => {
    const m = /^(.*?)(?:\.(\d+))?\.arrow$/.exec(p);
    return m === null ? [p, 0] : [m[1]!, m[2] === undefined ? 0 : Number(m[2])];
  };
  const [baseA, nA] = split(a);
  const [baseB, nB] = split(b);
  if (baseA !== baseB) return baseA < baseB ? -1 : 1;
  return nA - nB;
}

/** Files last written this long before the newest one are not compared by `schema_since`. */
const SCHEMA_WINDOW_NS = 60_000_000_000n;

/** A file schema's `schema_since`, or undefined when it has none (written by older versions). */
function schemaSince(schema: Schema): number | undefined {
  const v = Number(schema.metadata.get(SCHEMA_SINCE_KEY));
  return Number.isFinite(v) ? v : undefined;
}

/** The schema of an Arrow IPC file, from its footer (no batch is read). */
async function readFileSchema(file: string): Promise<Schema> {
  const handle = await open(file, 'r');
  try {
    const reader = await RecordBatchReader.from(handle);
    await reader.open();
    return reader.schema;
  } finally {
    await handle.close();
  }
}

/** Files under `dir` (recursively) ending with `suffix`, sorted; a missing folder has none. */
async function listFiles(dir: string, suffix: string, hidden = false): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix) && e.name.startsWith('.') === hidden)
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}
