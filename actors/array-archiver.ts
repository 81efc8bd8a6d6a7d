/**
 * ArrayArchiver: writes each event's payload as a `.npy` file, byte-identical to what
 * herostools' ArrayArchiver (`numpy.save`) writes for the same array.
 */
import type { Metadata, StoreContext } from '../src/archiver.js';
import { FileArchiver, type FileArchiverOptions } from '../src/file-archiver.js';
import { asNdArray, encodeNpy, splitFirstAxis } from '../src/formats/npy.js';
import { NdArray, type PyValue } from '../src/heros/values.js';
import type { OptionsSchema } from '../src/options.js';

/** ArrayArchiver options (manifest `arguments`). */
export interface ArrayArchiverOptions extends FileArchiverOptions {
  /** Write one file per sub-array along the first axis; the template sees `_split_index`. @default false */
  readonly split_data_array: boolean;
}

/** Archives array payloads as `.npy` files named by `save_template`. */
export class ArrayArchiver extends FileArchiver<ArrayArchiverOptions> {
  static override readonly optionsSchema: OptionsSchema = {
    ...FileArchiver.optionsSchema,
    split_data_array: { type: 'boolean', default: false, doc: 'Write one file per sub-array along the first axis; the template sees `_split_index` (0, 1, …).' },
  };

  override async store(_source: string, payload: PyValue, metadata: Metadata, _context: StoreContext): Promise<void> {
    // numpy.save accepts lists and scalars too (numpy.asarray); so do we.
    const array = payload instanceof NdArray ? payload : asNdArray(payload);
    if (!this.options.split_data_array) {
      // numpy.save appends ".npy" when the name lacks it.
      await this.writeFile(this.renderPath(metadata, '.npy'), encodeNpy(array));
      return;
    }
    // Every name is rendered (and its place in the per-name write order taken) before any
    // write starts; the sub-files are then written side by side.
    const rows = splitFirstAxis(array);
    const files = rows.map((_, i) => this.renderPath({ ...metadata, _split_index: i }, '.npy'));
    await Promise.all(rows.map((row, i) => this.writeFile(files[i]!, encodeNpy(row))));
  }
}
