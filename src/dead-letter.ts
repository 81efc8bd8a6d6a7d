/**
 * The dead-letter folder: where an event goes when it cannot be stored (retries exhausted, a
 * payload that does not fit, a template that fails, bytes that do not decode). Nothing is
 * dropped: each entry holds the event exactly as received, so it can be re-played once the
 * cause is fixed (`heros-archiver dead-letter retry <actor>`), and a readable record of why.
 *
 * Layout, one folder per event (created under a temporary name and renamed, so an entry is
 * complete or absent):
 *
 *     <dir>/<actor>/<UTC time>-<seq>/
 *         record.json     actor, source, key, error code and message, attempts, times
 *         event.cbor      the event bytes as received (HEROS CBOR), re-playable
 *         metadata.json   the merged metadata, as Python's json.dumps writes it (if known)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ArchiverError, describeCause, errorCode } from './errors.js';

/** The readable part of a dead-letter entry (`record.json`). */
export interface DeadLetterRecord {
  /** Format version of this record. */
  readonly version: 1;
  readonly actor: string;
  readonly classname: string;
  /** HERO name the event came from. */
  readonly source: string;
  /** The Zenoh key it arrived on, when it came from the bus. */
  readonly key?: string;
  /** Error code (see the README's error table). */
  readonly code: string;
  readonly message: string;
  /** The underlying error, when there is one. */
  readonly cause?: unknown;
  /** How many times storing was attempted. */
  readonly attempts: number;
  /** ISO time the event was received. */
  readonly receivedAt: string;
  /** ISO time it was dead-lettered. */
  readonly deadLetteredAt: string;
}

/** A dead-letter entry on disk. */
export interface DeadLetterEntry {
  /** The entry's folder. */
  readonly dir: string;
  readonly record: DeadLetterRecord;
}

/** What to write for one event. */
export interface DeadLetterInput {
  readonly actor: string;
  readonly classname: string;
  readonly source: string;
  readonly key?: string;
  readonly error: unknown;
  readonly attempts: number;
  readonly receivedAt: number;
  /** The event bytes (HEROS CBOR). */
  readonly event: Uint8Array;
  /** Merged metadata as Python-compatible JSON text, when known. */
  readonly metadataJson?: string;
}

/** The dead-letter folder of a daemon. */
export class DeadLetterStore {
  /** Root folder; one sub-folder per actor. */
  readonly dir: string;
  #seq = 0;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Folder of one actor's entries. */
  actorDir(actor: string): string {
    return path.join(this.dir, actor);
  }

  /**
   * Writes an entry; resolves with its folder. Throws `ARCHIVER_DEAD_LETTER_FAILED` when the
   * folder cannot be written (the caller keeps the event and tries again).
   */
  async put(input: DeadLetterInput): Promise<string> {
    const now = new Date();
    const err = input.error;
    const record: DeadLetterRecord = {
      version: 1,
      actor: input.actor,
      classname: input.classname,
      source: input.source,
      ...(input.key === undefined ? {} : { key: input.key }),
      code: errorCode(err),
      message: err instanceof Error ? err.message : String(err),
      ...(err instanceof Error && err.cause !== undefined ? { cause: describeCause(err.cause) } : {}),
      attempts: input.attempts,
      receivedAt: new Date(input.receivedAt).toISOString(),
      deadLetteredAt: now.toISOString(),
    };
    const name = `${now.toISOString().replace(/[:.]/g, '-')}-${String(++this.#seq).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
    const parent = this.actorDir(input.actor);
    const tmp = path.join(parent, `.${name}.tmp`);
    const final = path.join(parent, name);
    try {
      await mkdir(tmp, { recursive: true });
      await writeFile(path.join(tmp, 'event.cbor'), input.event);
      if (input.metadataJson !== undefined) await writeFile(path.join(tmp, 'metadata.json'), input.metadataJson);
      await writeFile(path.join(tmp, 'record.json'), `${JSON.stringify(record, null, 2)}\n`);
      await rename(tmp, final);
    } catch (cause) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw new ArchiverError('ARCHIVER_DEAD_LETTER_FAILED', `cannot write dead-letter entry in ${parent}: ${(cause as Error).message}`, {
        actorId: input.actor,
        path: parent,
        cause,
      });
    }
    return final;
  }

  /** Lists an actor's entries, oldest first. */
  async list(actor: string): Promise<DeadLetterEntry[]> {
    const parent = this.actorDir(actor);
    let names: string[];
    try {
      names = (await readdir(parent)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const entries: DeadLetterEntry[] = [];
    for (const name of names) {
      const dir = path.join(parent, name);
      try {
        const record = JSON.parse(await readFile(path.join(dir, 'record.json'), 'utf8')) as DeadLetterRecord;
        entries.push({ dir, record });
      } catch {
        // Not an entry (or damaged by hand): leave it alone, it is still on disk.
      }
    }
    return entries;
  }

  /** Actors that have entries. */
  async actors(): Promise<string[]> {
    try {
      return (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** The event bytes of an entry. */
  async readEvent(entry: DeadLetterEntry): Promise<Uint8Array> {
    return readFile(path.join(entry.dir, 'event.cbor'));
  }

  /** Deletes an entry (after a successful re-play). */
  async remove(entry: DeadLetterEntry): Promise<void> {
    await rm(entry.dir, { recursive: true, force: true });
  }
}
