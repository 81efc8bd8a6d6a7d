/**
 * Arrow IPC framing without decoding a batch: {@link scanStream} finds the complete messages of
 * an IPC stream file from their headers alone, and {@link writeIpcFile} writes the IPC *file*
 * holding the same messages — the stream's bytes copied as they are, behind a new schema
 * message and ahead of the footer. Finalising a stream thus costs a copy, in bounded memory,
 * instead of decoding and encoding every batch.
 *
 * The layout written is the one apache-arrow's RecordBatchFileWriter writes (the bytes are the
 * same for the same batches):
 *
 *   "ARROW1" + 2 zero bytes
 *   schema message                  0xFFFFFFFF, int32 length, flatbuffer padded to 8
 *   dictionary and record batch     copied from the stream
 *   messages
 *   0xFFFFFFFF 0x00000000           end of stream, for sequential readers
 *   footer flatbuffer               schema, and offset and lengths of every batch
 *   int32 footer length, "ARROW1"
 */
import type { FileHandle } from 'node:fs/promises';
import { MessageHeader, type RecordBatch, type Schema } from 'apache-arrow';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import { Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import { MetadataVersion } from 'apache-arrow/enum';

/** Where a message lies in a stream: its start, metadata length (with prefix) and body length. */
export interface MessageBlock {
  readonly offset: number;
  readonly metaDataLength: number;
  readonly bodyLength: number;
}

/** The complete messages of a stream file. */
export interface StreamLayout {
  /** The schema message (and the schema it holds). */
  readonly schema: Schema;
  readonly schemaBlock: MessageBlock;
  /** Dictionary and record batch messages, in file order. */
  readonly messages: readonly (MessageBlock & { readonly kind: 'dictionary' | 'record' })[];
  /** End of the last complete message. */
  readonly end: number;
  /** Whether an end-of-stream marker follows it (what comes after the marker is ignored). */
  readonly ended: boolean;
}

/** Where a message ends: its start, metadata and body. */
export function messageEnd(m: MessageBlock): number {
  return m.offset + m.metaDataLength + m.bodyLength;
}

/** Writes all of `bytes` at `position` (a write may take less than asked: it goes on where it stopped). */
export async function writeAt(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done, position + done);
    done += bytesWritten;
  }
}

const CONTINUATION = -1;
const MAGIC = new TextEncoder().encode('ARROW1');
/** Bytes read at once while scanning a stream's message headers. */
const SCAN_WINDOW = 256 * 1024;
const COPY_CHUNK = 8 * 1024 * 1024;

/**
 * The complete messages of the IPC stream in `handle` (`size` bytes), read from their headers.
 * Undefined when the bytes are not a stream this function knows (no schema message first, or
 * the pre-0.15 framing without continuation markers); then only decoding can tell.
 */
export async function scanStream(handle: FileHandle, size: number): Promise<StreamLayout | undefined> {
  // Headers are read through a window of the file, so that a stream of many small batches
  // takes one read per window, not one per message.
  const window = Buffer.allocUnsafe(Math.min(SCAN_WINDOW, Math.max(8, size)));
  let windowStart = 0;
  let windowLength = 0;
  /** `length` bytes at `at`, from the window (read again from `at` when they are not in it). */
  const bytesAt = async (at: number, length: number): Promise<Uint8Array | undefined> => {
    if (at < windowStart || at + length > windowStart + windowLength) {
      if (length > window.byteLength) {
        const own = Buffer.allocUnsafe(length);
        return (await handle.read(own, 0, length, at)).bytesRead < length ? undefined : own;
      }
      windowStart = at;
      windowLength = (await handle.read(window, 0, Math.min(window.byteLength, size - at), at)).bytesRead;
      if (windowLength < length) return undefined;
    }
    return window.subarray(at - windowStart, at - windowStart + length);
  };
  let schema: Schema | undefined;
  let schemaBlock: MessageBlock | undefined;
  const messages: (MessageBlock & { kind: 'dictionary' | 'record' })[] = [];
  let pos = 0;
  let ended = false;
  for (;;) {
    if (size - pos < 8) break;
    const prefix = await bytesAt(pos, 8);
    if (prefix === undefined) break;
    const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
    if (view.getInt32(0, true) !== CONTINUATION) {
      if (schema === undefined) return undefined;
      break;
    }
    const metaLen = view.getInt32(4, true);
    if (metaLen === 0) {
      ended = schema !== undefined;
      break;
    }
    if (metaLen < 0 || pos + 8 + metaLen > size) break;
    const meta = await bytesAt(pos + 8, metaLen);
    if (meta === undefined) break;
    let message: Message;
    try {
      message = Message.decode(meta);
    } catch {
      if (schema === undefined) return undefined;
      break;
    }
    const block = { offset: pos, metaDataLength: 8 + metaLen, bodyLength: Number(message.bodyLength) };
    const next = messageEnd(block);
    if (next > size) break;
    if (schema === undefined) {
      if (message.headerType !== MessageHeader.Schema) return undefined;
      schema = message.header() as Schema;
      schemaBlock = block;
    } else if (message.headerType === MessageHeader.RecordBatch) messages.push({ ...block, kind: 'record' });
    else if (message.headerType === MessageHeader.DictionaryBatch) messages.push({ ...block, kind: 'dictionary' });
    else break;
    pos = next;
  }
  if (schema === undefined || schemaBlock === undefined) return undefined;
  return { schema, schemaBlock, messages, end: messageEnd(messages.at(-1) ?? schemaBlock), ended };
}

/** One schema message as a stream writer frames it. */
export function schemaMessage(schema: Schema): Uint8Array {
  const flat = Message.encode(Message.from(schema));
  const aligned = (flat.byteLength + 8 + 7) & ~7;
  const out = new Uint8Array(aligned);
  const view = new DataView(out.buffer);
  view.setInt32(0, CONTINUATION, true);
  view.setInt32(4, aligned - 8, true);
  out.set(flat, 8);
  return out;
}

/**
 * One record batch as an IPC stream message in a single buffer: the bytes apache-arrow's
 * stream writer gives for it (uncompressed), without a writer, a schema message, or a copy per
 * part. Undefined for a batch with dictionaries (the writer's dictionary messages are needed).
 */
export function recordBatchMessage(batch: RecordBatch): Uint8Array | undefined {
  if (batch.dictionaries.size > 0) return undefined;
  const { byteLength, nodes, bufferRegions, buffers, variadicBufferCounts } = VectorAssembler.assemble(batch);
  const header = new RecordBatchHeader(batch.numRows, nodes, bufferRegions, null, variadicBufferCounts, batch.metadata);
  const flat = Message.encode(Message.from(header, byteLength));
  const metaLength = (flat.byteLength + 8 + 7) & ~7;
  // Zero-filled: the padding after the metadata and after each buffer.
  const out = new Uint8Array(metaLength + byteLength);
  const view = new DataView(out.buffer);
  view.setInt32(0, CONTINUATION, true);
  view.setInt32(4, metaLength - 8, true);
  out.set(flat, 8);
  for (let i = 0; i < buffers.length; i++) {
    const b = buffers[i]!;
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), metaLength + bufferRegions[i]!.offset);
  }
  return out;
}

/**
 * Writes to `out` (empty, positioned at 0) the IPC file of the stream in `src` laid out as
 * `layout`, with `schema` (the stream's fields, with other metadata) as its schema. Memory used
 * is one copy chunk, whatever the size of the stream.
 */
export async function writeIpcFile(src: FileHandle, layout: StreamLayout, schema: Schema, out: FileHandle): Promise<void> {
  let at = 0;
  const put = async (bytes: Uint8Array): Promise<void> => {
    await writeAt(out, bytes, at);
    at += bytes.byteLength;
  };
  const prefix = new Uint8Array(8);
  prefix.set(MAGIC);
  await put(prefix);
  await put(schemaMessage(schema));
  // The batches move by the difference between the old schema message and the new one.
  const from = messageEnd(layout.schemaBlock);
  const shift = at - from;
  const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, layout.end - from)));
  for (let pos = from; pos < layout.end; ) {
    const { bytesRead } = await src.read(buf, 0, Math.min(buf.byteLength, layout.end - pos), pos);
    if (bytesRead === 0) throw Object.assign(new Error(`stream ended at ${pos} of ${layout.end} bytes`), { code: 'EIO' });
    await put(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  const block = (m: MessageBlock): FileBlock => new FileBlock(m.metaDataLength, m.bodyLength, m.offset + shift);
  const footer = Footer.encode(
    new Footer(
      schema,
      MetadataVersion.V5,
      layout.messages.filter((m) => m.kind === 'record').map(block),
      layout.messages.filter((m) => m.kind === 'dictionary').map(block),
    ),
  );
  const tail = new Uint8Array(8 + footer.byteLength + 4 + MAGIC.byteLength);
  const view = new DataView(tail.buffer);
  view.setInt32(0, CONTINUATION, true);
  view.setInt32(4, 0, true);
  tail.set(footer, 8);
  view.setInt32(8 + footer.byteLength, footer.byteLength, true);
  tail.set(MAGIC, 12 + footer.byteLength);
  await put(tail);
}
