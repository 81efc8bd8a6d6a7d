/**
 * Re-playing dead-lettered events once the operator has fixed the cause
 * (`heros-archiver dead-letter retry <actor>`): each entry's event goes through the actor's
 * normal path — decode, merge metadata, store with retries — exactly as if it had just arrived.
 * An entry is removed only when its event was stored, or when it failed again and so has a new,
 * up-to-date entry: nothing is lost either way.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { ArchiverStats, DataArchiver } from './archiver.js';
import type { PreparedActor } from './boss.js';
import { MemoryBus } from './bus/memory.js';
import type { DeadLetterStore } from './dead-letter.js';
import { ArchiverError } from './errors.js';
import { decodeHeros } from './heros/cbor.js';
import type { ActorContext } from './observer.js';

/** Outcome of a re-play. */
export interface ReplayResult {
  /** Entries looked at. */
  entries: number;
  /** Events stored; their entries were removed. */
  stored: number;
  /** Events that failed again; each has a new entry (the old one was removed). */
  failedAgain: number;
}

/** Settings of a re-play. */
export interface ReplayOptions {
  /** Where the actor writes (as `Boss`). */
  root: string;
  baseDir: string;
  realm: string;
  logger: Logger;
}

/** Re-plays every dead-letter entry of the prepared actor `prepared`. */
export async function replayDeadLetters(prepared: PreparedActor, store: DeadLetterStore, options: ReplayOptions): Promise<ReplayResult> {
  const { entry, cls } = prepared;
  const logger = options.logger.child({ actor: entry.id });
  const context: ActorContext = {
    id: entry.id,
    classname: entry.classname,
    bus: new MemoryBus(),
    logger,
    realm: options.realm,
    root: options.root,
    baseDir: options.baseDir,
    deadLetters: store,
    // Never opened: a re-play does not start the actor, events go straight to its store.
    spoolDir: path.join(store.dir, '..', 'spool'),
    drainTimeoutMs: 60_000,
  };
  const actor = new cls(prepared.options as never, context) as unknown as DataArchiver;
  if (typeof actor.feed !== 'function' || typeof actor.stats !== 'function') {
    throw new ArchiverError('ARCHIVER_CLASS_INVALID', `actor "${entry.id}" (${entry.classname}) is not a DataArchiver; its events cannot be re-played`, {
      actorId: entry.id,
    });
  }
  const result: ReplayResult = { entries: 0, stored: 0, failedAgain: 0 };
  for (const dl of await store.list(entry.id)) {
    result.entries++;
    const raw = await store.readEvent(dl);
    const before: ArchiverStats = actor.stats();
    let value;
    try {
      value = decodeHeros(raw);
    } catch {
      // Still undecodable: leave the entry as it is, it cannot be re-played.
      logger.warn({ entry: dl.dir }, 'event still undecodable; entry kept');
      result.failedAgain++;
      continue;
    }
    actor.feed(dl.record.source, value, { raw, ...(dl.record.key === undefined ? {} : { key: dl.record.key }), receivedAt: Date.parse(dl.record.receivedAt) });
    await actor.idle();
    const after = actor.stats();
    if (after.stored > before.stored) result.stored++;
    else if (after.deadLettered > before.deadLettered) result.failedAgain++;
    else continue; // neither: keep the entry
    await store.remove(dl);
  }
  await actor.stop();
  logger.info(result, 'dead-letter re-play finished');
  return result;
}
