// The Event recorder on a fake apiserver (127.0.0.1): repeats counted on one Event, writes in the
// background within their own rate limit, a full queue dropping and counting, failures logged.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KubeClientOptions, KubeObject } from "./client.ts";
import { type EventAbout, EventRecorder, type EventRecorderOptions } from "./events.ts";
import { FakeApiserver } from "./fake-apiserver.ts";

const EVENTS = "/api/v1/namespaces/ns/events";

interface StoredEvent extends KubeObject {
  message?: string;
  count?: number;
}

const about = (message: string, name = "web"): EventAbout => ({
  involved: { apiVersion: "ramp.dev/v1alpha1", kind: "Rollout", name, namespace: "ns", uid: `uid-${name}` },
  reason: "Progressing",
  message,
  instance: "test",
});

describe("EventRecorder", () => {
  let api: FakeApiserver;
  const lines: string[] = [];
  const recorder = (opts: EventRecorderOptions = {}, client: KubeClientOptions = {}) =>
    new EventRecorder(api.client({ requestTimeoutMs: 5_000, ...client }), {
      log: (line) => lines.push(line),
      retryDelayMs: 10,
      ...opts,
    });
  const body = (r: { body?: unknown }) => (r.body ?? {}) as StoredEvent;
  const writes = () => api.requests.map((r) => `${r.method} ${r.path.slice(EVENTS.length)} ${body(r).count}`);
  const stored = () => api.list<StoredEvent>("v1", "Event");
  const event = (name: string) => api.object<StoredEvent>("v1", "Event", name, "ns");

  beforeEach(async () => {
    api = await new FakeApiserver([{ apiVersion: "v1", kind: "Event", plural: "events" }]).start();
    lines.length = 0;
  });
  afterEach(() => api.stop());

  it("writes five records of one Event as one POST, then one PATCH counting all five", async () => {
    const events = recorder();
    for (let i = 0; i < 5; i++) events.record(about("step 1"));
    expect(await events.flush(5_000)).toBe(true);
    expect(writes()).toEqual(["POST  1", "PATCH /web.1 5"]);
    expect(event("web.1")).toMatchObject({ count: 5, reason: "Progressing", involvedObject: { uid: "uid-web" } });
  });

  it("counts a repeat recorded later on the Event written, and one past the window on a new Event", async () => {
    let now = new Date("2026-12-02T10:00:00Z");
    const events = recorder({ now: () => now });
    events.record(about("paused"));
    await events.flush(5_000);
    now = new Date("2026-12-02T10:09:00Z");
    events.record(about("paused"));
    await events.flush(5_000);
    expect(event("web.1")).toMatchObject({ count: 2, lastTimestamp: "2026-12-02T10:09:00.000Z" });
    now = new Date("2026-12-02T10:19:01Z");
    events.record(about("paused"));
    await events.flush(5_000);
    expect(writes()).toEqual(["POST  1", "PATCH /web.1 2", "POST  1"]);
    expect(event("web.2")).toMatchObject({ count: 1, firstTimestamp: "2026-12-02T10:19:01.000Z" });
  });

  it.each([
    ["another message", about("step 2")],
    ["another object", about("step 1", "shop")],
    ["another type", { ...about("step 1"), warning: true }],
  ])("keeps %s a separate Event", async (_, other) => {
    const events = recorder();
    events.record(about("step 1"));
    events.record(other);
    events.record(about("step 1"));
    await events.flush(5_000);
    expect(writes().filter((w) => w.startsWith("POST"))).toHaveLength(2);
    expect(stored()).toHaveLength(2);
  });

  it("creates a new Event when the one to count on has expired (PATCH 404)", async () => {
    const events = recorder();
    events.record(about("stuck"));
    await events.flush(5_000);
    api.remove(...stored());
    events.record(about("stuck"));
    await events.flush(5_000);
    expect(writes()).toEqual(["POST  1", "PATCH /web.1 2", "POST  1"]);
    expect(stored()).toMatchObject([{ count: 1, message: "stuck" }]);
  });

  it("remembers the Events written up to its bound, forgetting the least recent first", async () => {
    const events = recorder({ maxRemembered: 2 });
    for (const message of ["a", "b", "a", "c", "a", "b"]) {
      events.record(about(message));
      await events.flush(5_000);
    }
    // "c" made "b" (the least recently written) forgotten; "a", written since, was still remembered.
    expect(writes()).toEqual(["POST  1", "POST  1", "PATCH /web.1 2", "POST  1", "PATCH /web.1 3", "POST  1"]);
  });

  it("returns at once and writes within its own rate limit, all in the end", async () => {
    const events = recorder({}, { qps: 5, burst: 2 });
    const started = Date.now();
    for (let i = 0; i < 10; i++) events.record(about(`step ${i}`));
    expect(Date.now() - started).toBeLessThan(100);
    expect(api.requests).toHaveLength(0);
    expect(events.pendingCount).toBe(10);
    await expect.poll(() => stored(), { timeout: 5_000 }).toHaveLength(10);
    await expect.poll(() => events.pendingCount).toBe(0);
    // Discovery and ten POSTs: two at once, then one every 200 ms.
    expect(Math.max(...api.requests.map((r) => r.at)) - started).toBeGreaterThanOrEqual(1_500);
    expect(writes().every((w) => w === "POST  1")).toBe(true);
  });

  it("drops and counts what comes beyond a full queue, logging once for the burst", async () => {
    api.hold();
    const events = recorder({ maxQueued: 3, concurrency: 1 });
    for (let i = 0; i < 6; i++) events.record(about(`step ${i}`));
    events.record(about("step 2"));
    expect(events.droppedCount).toBe(2);
    expect(lines).toEqual(["Event queue full (3 Events waiting): dropped Progressing for Rollout ns/web; 1 dropped so far"]);
    api.release();
    expect(await events.flush(5_000)).toBe(true);
    expect(stored().map((e) => [e.message, e.count])).toEqual([
      ["step 0", 1],
      ["step 1", 1],
      ["step 2", 2],
      ["step 3", 1],
    ]);
  });

  it("logs a write the apiserver keeps failing, after three tries, and never throws", async () => {
    api.answerWith((r) => (body(r).message === "boom" ? { code: 500, message: "etcd is sad" } : undefined));
    const events = recorder();
    expect(() => events.record(about("boom"))).not.toThrow();
    events.record(about("fine"));
    expect(await events.flush(5_000)).toBe(true);
    expect(api.requests.filter((r) => body(r).message === "boom")).toHaveLength(3);
    expect(stored().map((e) => e.message)).toEqual(["fine"]);
    expect(lines).toEqual(["event Progressing for Rollout ns/web: etcd is sad (after 3 tries)"]);
  });

  it("flush resolves once the writes under way are answered, and says so; false at its timeout", async () => {
    api.hold();
    const events = recorder();
    events.record(about("step 1"));
    let flushed: boolean | undefined;
    const flush = events.flush(5_000).then((ok) => (flushed = ok));
    expect(await events.flush(50)).toBe(false);
    await expect.poll(() => api.requests, { timeout: 5_000 }).toHaveLength(1);
    expect(flushed).toBeUndefined();
    api.release();
    await flush;
    expect(flushed).toBe(true);
    expect(stored()).toHaveLength(1);
  });

  it("stop forgets what is queued and ignores later records", async () => {
    api.hold();
    const events = recorder({ concurrency: 1 });
    events.record(about("step 1"));
    events.record(about("step 2"));
    events.stop();
    events.record(about("step 3"));
    api.release();
    expect(await events.flush(5_000)).toBe(true);
    expect(stored().map((e) => e.message)).toEqual(["step 1"]);
  });
});
