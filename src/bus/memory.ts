/**
 * MemoryBus: an in-process bus with Zenoh's key-expression matching. For unit tests and for
 * embedding heros-archiver where events come from the same process. Delivery is asynchronous
 * (a microtask), like a real bus, so publishers never run inside subscriber code.
 */
import { QueryReplyError, type Bus, type BusEvent, type Declaration, type QueryHandler, type SampleHandler, type Subscription } from './bus.js';
import { keyExprMatches } from './key-expr.js';

/** One answer to {@link MemoryBus.get}: a reply, or an error reply. */
export type MemoryReply = { readonly key: string; readonly payload: Uint8Array; readonly error?: false } | { readonly key: string; readonly payload: Uint8Array; readonly error: true };

/** An in-process {@link Bus}. */
export class MemoryBus implements Bus {
  readonly #subs = new Set<{ keyExpr: string; handler: SampleHandler }>();
  readonly #listeners = new Set<(e: BusEvent) => void>();
  readonly #queryables = new Set<{ keyExpr: string; handler: QueryHandler }>();
  readonly #tokens = new Map<object, string>();
  #closed = false;
  #held: (() => void)[] | undefined;

  async subscribe(keyExpr: string, handler: SampleHandler): Promise<Subscription> {
    const entry = { keyExpr, handler };
    this.#subs.add(entry);
    return {
      keyExpr,
      close: async () => {
        this.#subs.delete(entry);
      },
    };
  }

  async put(key: string, payload: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error('MemoryBus is closed');
    const receivedAt = Date.now();
    for (const sub of this.#subs) {
      if (keyExprMatches(sub.keyExpr, key)) {
        const deliver = (): void => sub.handler({ key, payload, receivedAt });
        if (this.#held !== undefined) this.#held.push(deliver);
        else queueMicrotask(deliver);
      }
    }
  }

  /** While paused, samples are held (in order) and delivered on resume, as a network would. */
  setReceivePaused(paused: boolean): void {
    if (paused) {
      this.#held ??= [];
      return;
    }
    const held = this.#held;
    this.#held = undefined;
    for (const deliver of held ?? []) queueMicrotask(deliver);
  }

  /** Whether receiving is paused. */
  get receivePaused(): boolean {
    return this.#held !== undefined;
  }

  async declareQueryable(keyExpr: string, handler: QueryHandler): Promise<Declaration> {
    if (this.#closed) throw new Error('MemoryBus is closed');
    const entry = { keyExpr, handler };
    this.#queryables.add(entry);
    return {
      keyExpr,
      close: async () => {
        this.#queryables.delete(entry);
      },
    };
  }

  async declareLivelinessToken(key: string): Promise<Declaration> {
    if (this.#closed) throw new Error('MemoryBus is closed');
    const handle = {};
    this.#tokens.set(handle, key);
    return {
      keyExpr: key,
      close: async () => {
        this.#tokens.delete(handle);
      },
    };
  }

  /**
   * Queries every queryable whose key expression meets `selector`, as a Zenoh `get` does
   * (tests and in-process tools). A handler that throws anything but a {@link QueryReplyError}
   * gives no reply, as on Zenoh.
   */
  async get(selector: string, payload?: Uint8Array): Promise<MemoryReply[]> {
    if (this.#closed) throw new Error('MemoryBus is closed');
    const replies: MemoryReply[] = [];
    for (const q of [...this.#queryables]) {
      // Either side concrete covers HEROS (concrete endpoints, wildcard selectors); a full
      // intersection of two wildcard expressions is not needed in-process.
      if (!keyExprMatches(selector, q.keyExpr) && !keyExprMatches(q.keyExpr, selector)) continue;
      // A microtask first, like the network: the querier never runs inside its own call.
      await Promise.resolve();
      try {
        const bytes = await q.handler({ key: selector, payload });
        if (bytes !== undefined) replies.push({ key: q.keyExpr, payload: bytes });
      } catch (err) {
        if (err instanceof QueryReplyError) replies.push({ key: q.keyExpr, payload: err.payload, error: true });
      }
    }
    return replies;
  }

  /** Keys of the live liveliness tokens, in declaration order (tests). */
  get livelinessTokens(): string[] {
    return [...this.#tokens.values()];
  }

  /** Number of live subscriptions (tests). */
  get subscriptionCount(): number {
    return this.#subs.size;
  }

  onEvent(listener: (event: BusEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Emits a state change to listeners (tests simulate disconnects with it). */
  emit(event: BusEvent): void {
    for (const l of this.#listeners) l(event);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#subs.clear();
    this.#queryables.clear();
    this.#tokens.clear();
  }
}
