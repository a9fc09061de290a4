// Capacity on this node: runs marked running wait in a ready queue for their due time, then execute while
// fewer than max_in_flight do, within the per-host and per-namespace limits. A run at one of those limits
// waits in that one's queue (parked) while other hosts' and namespaces' runs go ahead.
import type { Active } from "./active.ts";
import { MinHeap } from "./heap.ts";
import { Slots } from "./slots.ts";

export class Capacity {
  #ready = new MinHeap<Active>((a, b) => a.run.dueAt < b.run.dueAt || (a.run.dueAt === b.run.dueAt && a.run.id < b.run.id));
  #executing = 0;
  #hosts: Slots<Active>;
  /** No namespace takes every slot ([limits] max_in_flight): the rest wait while other namespaces run. */
  #namespaces: Slots<Active>;

  constructor(
    private readonly maxInFlight: number,
    perHost: number,
    namespaceLimit?: (ns: string) => number,
  ) {
    this.#hosts = new Slots<Active>(() => perHost);
    this.#namespaces = new Slots<Active>((ns) => namespaceLimit?.(ns) ?? Number.POSITIVE_INFINITY);
  }

  get executing(): number {
    return this.#executing;
  }

  /** Runs ready, waiting for their due time or for a free slot (not those parked at a limit). */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Runs waiting for their host's or their namespace's limit. */
  get parkedCount(): number {
    return this.#hosts.waiting + this.#namespaces.waiting;
  }

  /** Which limit runs like this one already wait for (a further one would wait too), if any. */
  backlog(ns: string, host: string): "namespace" | "host" | null {
    if (this.#namespaces.waitingFor(ns) > 0) return "namespace";
    return this.#hosts.waitingFor(host) > 0 ? "host" : null;
  }

  /** The ready run due first. */
  peek(): Active | undefined {
    return this.#ready.peek();
  }

  ready(a: Active): void {
    this.#ready.push(a);
  }

  /** Takes the ready run due first, if its time has come by `now` and fewer than max_in_flight execute. */
  takeDue(now: number): Active | undefined {
    if (this.#executing >= this.maxInFlight) return undefined;
    const top = this.#ready.peek();
    if (!top || top.run.dueAt > now) return undefined;
    return this.#ready.pop();
  }

  /**
   * Whether a due run may execute now; if so its slots are taken. If not, it waits: in its namespace's queue
   * or its host's, or (every slot busy) back in the ready queue, where the next run to end finds it.
   */
  admit(a: Active): boolean {
    if (this.#namespaces.full(a.run.namespace)) this.#namespaces.wait(a.run.namespace, a);
    else if (this.#hosts.full(a.host)) this.#hosts.wait(a.host, a);
    else if (this.#executing >= this.maxInFlight) this.#ready.push(a);
    else {
      this.#executing++;
      this.#hosts.take(a.host);
      this.#namespaces.take(a.run.namespace);
      return true;
    }
    return false;
  }

  /** A run ended: frees its slots and hands `next` the oldest run parked for its namespace, then its host's. */
  release(a: Active, next: ((a: Active) => void) | null): void {
    this.#executing--;
    const forHost = this.#hosts.release(a.host);
    const forNamespace = this.#namespaces.release(a.run.namespace);
    if (!next) return;
    if (forNamespace) next(forNamespace);
    if (forHost) next(forHost);
  }

  /** A parked run will not start (killed, cancelled). */
  unpark(a: Active): void {
    this.#hosts.remove(a.host, a);
    this.#namespaces.remove(a.run.namespace, a);
  }

  /** At stop: nothing waits any more. */
  clear(): void {
    this.#ready.drain();
    this.#hosts.clear();
    this.#namespaces.clear();
  }
}
