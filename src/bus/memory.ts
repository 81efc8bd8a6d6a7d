/**
 * MemoryBus: an in-process bus with Zenoh's key-expression matching. For unit tests and for
 * embedding heros-archiver where events come from the same process. Delivery is asynchronous
 * (a microtask), like a real bus, so publishers never run inside subscriber code.
 */
import type { Bus, BusEvent, SampleHandler, Subscription } from './bus.js';
import { keyExprMatches } from './key-expr.js';

/** An in-process {@link Bus}. */
export class MemoryBus implements Bus {
  readonly #subs = new Set<{ keyExpr: string; handler: SampleHandler }>();
  readonly #listeners = new Set<(e: BusEvent) => void>();
  #closed = false;

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
        queueMicrotask(() => sub.handler({ key, payload, receivedAt }));
      }
    }
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
  }
}
