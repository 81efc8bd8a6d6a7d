/**
 * FileArchiver: a DataArchiver that writes one file per event (or per sub-array), named by a
 * Jinja2 `save_template` rendered with the event's merged metadata. ArrayArchiver and
 * JsonArchiver build on it; so can custom archivers that write their own formats.
 */
import { DataArchiver, type DataArchiverOptions, type Metadata } from './archiver.js';
import { ConfigError, type ArchiverError } from './errors.js';
import type { ActorContext } from './observer.js';
import type { OptionsSchema } from './options.js';
import { writeFileAtomic, type FsyncPolicy } from './storage/atomic-file.js';
import { releaseSpareFiles } from './storage/write-workers.js';
import { compileTemplate, type CompiledTemplate } from './template.js';

/** Options of file-writing archivers. */
export interface FileArchiverOptions extends DataArchiverOptions {
  /** Jinja2 template of the file path, rendered with the merged metadata. Required. */
  readonly save_template: string;
  /** `none`: leave flushing to the OS (as herostools); `file`: fdatasync each file before it
   *  appears under its name. @default "none" */
  readonly fsync: FsyncPolicy;
}

/** Base class of archivers that write one file per event. */
export abstract class FileArchiver<O extends FileArchiverOptions = FileArchiverOptions> extends DataArchiver<O> {
  static override readonly optionsSchema: OptionsSchema = {
    ...DataArchiver.optionsSchema,
    save_template: { type: 'string', required: true, nonEmpty: true, doc: 'Jinja2 template of the file path, rendered with the merged metadata (see "Templates").' },
    concurrency: {
      type: 'integer',
      min: 1,
      max: 64,
      default: 8,
      doc: 'Files written at once. Writes to the same file name still happen one after another, in the order the events arrived (as herostools: the last event wins).',
    },
    fsync: { type: 'string', enum: ['none', 'file'], default: 'none', doc: '`none` leaves flushing to the OS, as herostools; `file` makes each file durable (fdatasync) before it appears under its name.' },
  };

  /** The compiled `save_template`. */
  protected readonly template: CompiledTemplate;
  /** The last write started per file name: writes to one name run one after another. */
  readonly #writing = new Map<string, Promise<void>>();

  constructor(options: O, context: ActorContext) {
    super(options, context);
    // Compiling here (no I/O) makes a broken template a configuration error, found by
    // `heros-archiver validate`, not a failure of every event.
    try {
      this.template = compileTemplate(options.save_template);
    } catch (err) {
      const e = err as ArchiverError;
      throw new ConfigError([{ code: e.code ?? 'ARCHIVER_TEMPLATE_INVALID', path: 'save_template', message: e.message, actorId: context.id }]);
    }
  }

  /** After the queue is drained: no spare files are left in the archive folders. */
  protected override async onStop(): Promise<void> {
    await super.onStop();
    await releaseSpareFiles();
  }

  /**
   * Renders `save_template` with `metadata` and resolves it inside the archive root.
   * Throws `ARCHIVER_TEMPLATE_FAILED` or `ARCHIVER_PATH_OUTSIDE_ROOT` (both dead-letter the event).
   */
  protected renderPath(metadata: Metadata, suffix = ''): string {
    let rendered = this.template.render(metadata);
    if (suffix !== '' && !rendered.endsWith(suffix)) rendered += suffix;
    return this.resolvePath(rendered);
  }

  /**
   * Writes a file atomically (temporary file + rename), creating parent folders. Stores run
   * `concurrency` at a time; writes to one file name are chained in the order of the calls, so
   * the event that arrived last is the one left under the name, as with a single writer.
   */
  protected async writeFile(file: string, data: readonly Uint8Array[] | string): Promise<void> {
    const previous = this.#writing.get(file);
    const write = (): Promise<void> => writeFileAtomic(file, data, this.options.fsync ?? 'none');
    const current = previous === undefined ? write() : previous.then(write, write);
    this.#writing.set(file, current);
    try {
      await current;
    } finally {
      if (this.#writing.get(file) === current) this.#writing.delete(file);
    }
    if (this.context.metrics) {
      const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.reduce((n, c) => n + c.byteLength, 0);
      this.context.metrics.recordWrite(this.id, bytes);
    }
  }
}
