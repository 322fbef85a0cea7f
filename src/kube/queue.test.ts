import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_DELAY_MS, type ReconcileResult, runWorkers, timedReconcile, timerDelay, WorkQueue } from "./queue.ts";

afterEach(() => vi.useRealTimers());

describe("timerDelay", () => {
  it.each([
    [0, 0],
    [-5, -5],
    [1_000, 1_000],
    [MAX_DELAY_MS, MAX_DELAY_MS],
    [MAX_DELAY_MS + 1, MAX_DELAY_MS],
    [2 ** 31 - 1, MAX_DELAY_MS],
    [2 ** 31, MAX_DELAY_MS],
    [600 * 3_600_000, MAX_DELAY_MS],
    [Number.MAX_SAFE_INTEGER, MAX_DELAY_MS],
    [Number.POSITIVE_INFINITY, MAX_DELAY_MS],
    [Number.NaN, MAX_DELAY_MS],
  ])("a requested %d ms is %d ms", (requested, expected) => {
    expect(timerDelay(requested)).toBe(expected);
  });
});

describe("WorkQueue", () => {
  it.each([[2 ** 31], [600 * 3_600_000], [Number.NaN]])(
    "a delay of %d ms wakes after the clamp, never at once",
    async (delayMs) => {
      vi.useFakeTimers();
      const q = new WorkQueue();
      q.addAfter("a", delayMs);
      vi.advanceTimersByTime(1_000);
      expect(q.length).toBe(0);
      vi.advanceTimersByTime(MAX_DELAY_MS);
      expect(q.length).toBe(1);
      q.shutDown();
    },
  );

  it("queues a key once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.length).toBe(2);
    expect([await q.get(), await q.get()]).toEqual(["a", "b"]);
  });

  it("never hands a key to two workers; an add while it is handled queues it again after done", async () => {
    const q = new WorkQueue();
    q.add("a");
    const first = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    q.done(first as string);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it.each([
    { failures: 1, delay: 5 },
    { failures: 2, delay: 10 },
    { failures: 5, delay: 80 },
    { failures: 30, delay: 60_000 },
  ])("backs off to $delay ms after $failures failures", ({ failures, delay }) => {
    const q = new WorkQueue();
    let last = 0;
    for (let i = 0; i < failures; i++) last = q.addRateLimited("a");
    expect(last).toBe(delay);
    q.forget("a");
    expect(q.addRateLimited("a")).toBe(5);
    q.shutDown();
  });

  it("keeps the earliest of several delayed adds", () => {
    vi.useFakeTimers();
    const q = new WorkQueue();
    q.addAfter("a", 1000);
    q.addAfter("a", 100);
    q.addAfter("a", 5000);
    vi.advanceTimersByTime(100);
    expect(q.length).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(q.length).toBe(1);
  });

  it("wakes a waiting worker and ends it on shutdown", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add("a");
    expect(await waiting).toBe("a");
    const next = q.get();
    q.shutDown();
    expect(await next).toBeUndefined();
  });
});

describe("runWorkers", () => {
  it("retries a failing key with backoff and honours requeueAfter", async () => {
    const q = new WorkQueue({ baseDelayMs: 1 });
    const seen: string[] = [];
    let failuresLeft = 2;
    const errors: number[] = [];
    const running = runWorkers(
      q,
      2,
      async (key) => {
        seen.push(key);
        if (key === "flaky" && failuresLeft-- > 0) throw new Error("conflict");
        if (key === "later" && seen.filter((k) => k === "later").length === 1) return { requeueAfterMs: 5 };
        return undefined;
      },
      (_key, _err, retryIn) => errors.push(retryIn),
    );
    q.add("flaky");
    q.add("later");
    await vi.waitFor(() => expect(seen.filter((k) => k === "later")).toHaveLength(2));
    await vi.waitFor(() => expect(seen.filter((k) => k === "flaky")).toHaveLength(3));
    expect(errors).toEqual([1, 2]);
    q.shutDown();
    await running;
  });
});

describe("timedReconcile", () => {
  it.each([
    ["done", async (): Promise<ReconcileResult> => undefined],
    ["requeue", async (): Promise<ReconcileResult> => ({ requeueAfterMs: 10 })],
    [
      "error",
      async (): Promise<ReconcileResult> => {
        throw new Error("boom");
      },
    ],
  ])("reports %s with its duration, and passes the result or the error on", async (outcome, reconcile) => {
    const reports: [string, number][] = [];
    const timed = timedReconcile(reconcile, (o, s) => reports.push([o, s]));
    const ended = await timed("ns/a").then(
      (r) => ({ r }),
      (e: unknown) => ({ e }),
    );
    expect(ended).toEqual(
      await reconcile().then(
        (r) => ({ r }),
        (e: unknown) => ({ e }),
      ),
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]?.[0]).toBe(outcome);
    expect(reports[0]?.[1]).toBeGreaterThanOrEqual(0);
  });
});
