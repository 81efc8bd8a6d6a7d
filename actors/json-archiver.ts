/**
 * JsonArchiver: writes each event's payload as a JSON file, byte-identical to herostools'
 * JsonArchiver (`json.dumps(payload, indent=4)`).
 */
import type { Metadata, StoreContext } from '../src/archiver.js';
import { UnrecoverableError } from '../src/errors.js';
import { FileArchiver, type FileArchiverOptions } from '../src/file-archiver.js';
import { pyJsonDumps } from '../src/formats/python-json.js';
import type { PyValue } from '../src/heros/values.js';
import type { OptionsSchema } from '../src/options.js';

/** JsonArchiver options (manifest `arguments`). */
export interface JsonArchiverOptions extends FileArchiverOptions {
  /** Put the merged metadata into the payload under the key `"metadata"`. @default false */
  readonly merge_metadata: boolean;
  /** What to do with values Python's json cannot write (arrays, bytes, sets, datetimes):
   *  `represent` writes the documented JSON form, `reject` dead-letters the event. @default "represent" */
  readonly non_json: 'represent' | 'reject';
  /** Spaces of indentation, as json.dumps' `indent` (herostools: 4). @default 4 */
  readonly indent: number;
}

/** Archives payloads as JSON files named by `save_template`. */
export class JsonArchiver extends FileArchiver<JsonArchiverOptions> {
  static override readonly optionsSchema: OptionsSchema = {
    ...FileArchiver.optionsSchema,
    merge_metadata: { type: 'boolean', default: false, doc: 'Put the merged metadata into the payload under the key `"metadata"` (the payload must be a dict).' },
    non_json: { type: 'string', enum: ['represent', 'reject'], default: 'represent', doc: "Values Python's json cannot write (arrays, bytes, sets, datetimes): `represent` writes the documented JSON form, `reject` dead-letters the event." },
    indent: { type: 'integer', default: 4, min: 0, max: 16, doc: "Indentation, as json.dumps' `indent` (herostools uses 4)." },
  };

  override async store(_source: string, payload: PyValue, metadata: Metadata, context: StoreContext): Promise<void> {
    let value = payload;
    if (this.options.merge_metadata) {
      // In Python's key order, which a plain object would change for keys like "10".
      value = withMetadata(payload, context.metadataInOrder as Map<string, PyValue>);
    }
    const text = pyJsonDumps(value, { indent: this.options.indent ?? 4, nonJson: this.options.non_json ?? 'represent' });
    // herostools writes the rendered name as it is (no suffix added).
    await this.writeFile(this.renderPath(metadata), text);
  }
}

/** `payload["metadata"] = metadata` as Python does it: an existing key keeps its position. */
function withMetadata(payload: PyValue, metadata: Map<string, PyValue>): PyValue {
  if (payload instanceof Map) {
    const copy = new Map(payload);
    copy.set('metadata', metadata);
    return copy;
  }
  if (payload !== null && typeof payload === 'object' && Object.getPrototypeOf(payload) === Object.prototype) {
    return { ...(payload as Record<string, PyValue>), metadata };
  }
  throw new UnrecoverableError('merge_metadata needs a dict payload', {}, 'ARCHIVER_PAYLOAD_MISMATCH');
}
