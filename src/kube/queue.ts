// A per-key work queue with the semantics of client-go's: a key is queued once however often it
// is added, never handled by two workers at once (an add while it is being handled queues it again
// afterwards), delayed adds keep the earliest time, and failures back off exponentially per key.

/** Longest delay handed to a timer. Node wraps anything past 2^31-1 ms to 1 ms; a level-based
 * reconcile woken early just plans again, so long waits are taken in steps of at most this. */
export const MAX_DELAY_MS = 5 * 60_000;

/** The delay a timer gets for a requested one: clamped to MAX_DELAY_MS (NaN too). */
export const timerDelay = (delayMs: number): number => (delayMs <= MAX_DELAY_MS ? delayMs : MAX_DELAY_MS);

export interface QueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: QueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else this.queue.push(key);
  }

  addAfter(key: string, requestedMs: number): void {
    const delayMs = timerDelay(requestedMs);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Exponential backoff per key: base, 2*base, 4*base... up to the maximum. */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (n - 1));
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its backoff starts again from the base. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to handle; undefined once shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished `key`; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}

/** What a reconcile asks for next, as in controller-runtime. An exception means: back off and retry. */
export type ReconcileResult = { requeueAfterMs?: number } | undefined;

/** How a reconcile ended, as ramp_reconcile_total counts it. */
export type ReconcileOutcome = "done" | "requeue" | "error";

/** The reconcile, reporting each call's outcome and duration in seconds (for the metrics). */
export const timedReconcile =
  (reconcile: (key: string) => Promise<ReconcileResult>, report: (outcome: ReconcileOutcome, seconds: number) => void) =>
  async (key: string): Promise<ReconcileResult> => {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await reconcile(key);
      report(result?.requeueAfterMs !== undefined ? "requeue" : "done", seconds());
      return result;
    } catch (err) {
      report("error", seconds());
      throw err;
    }
  };

/** Runs `workers` loops that take keys and reconcile them until the queue shuts down. */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  reconcile: (key: string) => Promise<ReconcileResult>,
  onError: (key: string, err: unknown, retryInMs: number) => void = () => {},
): Promise<void> {
  const loop = async () => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        onError(key, err, queue.addRateLimited(key));
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
}
