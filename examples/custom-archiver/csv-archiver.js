// A custom archiver: appends one CSV line per event (time, source, and chosen metadata keys).
// Load it from a manifest with "classname": "./csv-archiver.js#CsvArchiver".
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DataArchiver, UnrecoverableError } from 'heros-archiver';

export class CsvArchiver extends DataArchiver {
  // Options a manifest may pass: the base class's (object_selector, event_name,
  // default_metadata, max_retries, ...) plus our own. Unknown keys are refused.
  static optionsSchema = {
    ...DataArchiver.optionsSchema,
    file: { type: 'string', required: true, doc: 'CSV file to append to.' },
    columns: { type: 'any', default: ['value'], doc: 'Metadata keys written after time and source.' },
  };

  async store(source, payload, metadata, { signal }) {
    if (typeof payload !== 'number' && typeof payload?.valueOf() !== 'number') {
      // Retrying cannot help: the event goes to the dead-letter folder at once.
      throw new UnrecoverableError(`expected a number, got ${typeof payload}`);
    }
    const file = this.resolvePath(this.options.file); // stays inside the archive root
    const cells = [new Date().toISOString(), source, String(Number(payload)), ...this.options.columns.map((c) => String(metadata[c] ?? ''))];
    await mkdir(path.dirname(file), { recursive: true });
    // Any other error (disk full, permissions) is retried with backoff, then dead-lettered.
    await appendFile(file, `${cells.join(',')}\n`, { signal });
  }
}
