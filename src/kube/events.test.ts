// The Event recorder on a fake apiserver (127.0.0.1): repeats counted on one Event, writes in the
// background within their own rate limit, a full queue dropping and counting, failures logged.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { KubeClient, type KubeClientOptions } from "./client.ts";
import { type EventAbout, EventRecorder, type EventRecorderOptions } from "./events.ts";

interface Seen {
  method: string;
  path: string;
  body: Record<string, unknown>;
  at: number;
}

const EVENTS = "/api/v1/namespaces/ns/events";

/** A fake apiserver holding Events: POST names them, PATCH merges into them (404 when gone); a
 * message in `failing` answers 500; while `held`, writes wait for release(). */
function fakeApiserver() {
  const requests: Seen[] = [];
  const stored = new Map<string, Record<string, unknown>>();
  const failing = new Set<string>();
  let held: Promise<void> | undefined;
  let release = () => {};
  const answer = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse, { path, body }: Seen) => {
    const notFound = { kind: "Status", code: 404, reason: "NotFound", message: `events "${path}" not found` };
    if (req.method === "POST" && path === EVENTS) {
      if (failing.has(String(body.message))) return answer(res, 500, { kind: "Status", code: 500, message: "etcd is sad" });
      const name = `${(body.metadata as { generateName: string }).generateName}${stored.size + 1}`;
      const event = { ...body, metadata: { ...(body.metadata as object), name } };
      stored.set(name, event);
      return answer(res, 201, event);
    }
    const name = path.slice(EVENTS.length + 1);
    const event = stored.get(name);
    if (req.method === "PATCH" && event) {
      Object.assign(event, body);
      return answer(res, 200, event);
    }
    answer(res, 404, notFound);
  };
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    // Discovery is answered at once: only writes are held.
    if (req.url === "/api/v1") return answer(res, 200, { resources: [{ name: "events", kind: "Event", namespaced: true }] });
    req.on("end", () => {
      const seen = {
        method: req.method ?? "",
        path: (req.url ?? "").split("?")[0] ?? "",
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        at: Date.now(),
      };
      requests.push(seen);
      void (held ?? Promise.resolve()).then(() => handle(req, res, seen));
    });
  });
  return {
    requests,
    stored,
    failing,
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release() {
      held = undefined;
      release();
    },
    reset() {
      requests.length = 0;
      stored.clear();
      failing.clear();
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-events-")), "config");
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [{ name: "fake", cluster: { server: url } }],
          users: [{ name: "fake", user: {} }],
          contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
          "current-context": "fake",
        }),
      );
      return kubeconfig;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const about = (message: string, name = "web"): EventAbout => ({
  involved: { apiVersion: "ramp.dev/v1alpha1", kind: "Rollout", name, namespace: "ns", uid: `uid-${name}` },
  reason: "Progressing",
  message,
  instance: "test",
});

async function eventually(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("EventRecorder", () => {
  const api = fakeApiserver();
  let kubeconfig: string;
  const lines: string[] = [];
  const recorder = (opts: EventRecorderOptions = {}, client: KubeClientOptions = {}) =>
    new EventRecorder(new KubeClient({ kubeconfig, requestTimeoutMs: 5_000, ...client }), {
      log: (line) => lines.push(line),
      retryDelayMs: 10,
      ...opts,
    });
  const writes = () => api.requests.map((r) => `${r.method} ${r.path.slice(EVENTS.length)} ${r.body.count}`);

  beforeAll(async () => {
    kubeconfig = await api.listen();
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.reset();
    lines.length = 0;
  });

  it("writes five records of one Event as one POST, then one PATCH counting all five", async () => {
    const events = recorder();
    for (let i = 0; i < 5; i++) events.record(about("step 1"));
    expect(await events.flush(5_000)).toBe(true);
    expect(writes()).toEqual(["POST  1", "PATCH /web.1 5"]);
    expect(api.stored.get("web.1")).toMatchObject({ count: 5, reason: "Progressing", involvedObject: { uid: "uid-web" } });
  });

  it("counts a repeat recorded later on the Event written, and one past the window on a new Event", async () => {
    let now = new Date("2026-12-02T10:00:00Z");
    const events = recorder({ now: () => now });
    events.record(about("paused"));
    await events.flush(5_000);
    now = new Date("2026-12-02T10:09:00Z");
    events.record(about("paused"));
    await events.flush(5_000);
    expect(api.stored.get("web.1")).toMatchObject({ count: 2, lastTimestamp: "2026-12-02T10:09:00.000Z" });
    now = new Date("2026-12-02T10:19:01Z");
    events.record(about("paused"));
    await events.flush(5_000);
    expect(writes()).toEqual(["POST  1", "PATCH /web.1 2", "POST  1"]);
    expect(api.stored.get("web.2")).toMatchObject({ count: 1, firstTimestamp: "2026-12-02T10:19:01.000Z" });
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
    expect(api.stored.size).toBe(2);
  });

  it("creates a new Event when the one to count on has expired (PATCH 404)", async () => {
    const events = recorder();
    events.record(about("stuck"));
    await events.flush(5_000);
    api.stored.clear();
    events.record(about("stuck"));
    await events.flush(5_000);
    expect(writes()).toEqual(["POST  1", "PATCH /web.1 2", "POST  1"]);
    expect([...api.stored.values()]).toMatchObject([{ count: 1, message: "stuck" }]);
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
    await eventually("all ten written", () => api.stored.size === 10);
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
    expect([...api.stored.values()].map((e) => [e.message, e.count])).toEqual([
      ["step 0", 1],
      ["step 1", 1],
      ["step 2", 2],
      ["step 3", 1],
    ]);
  });

  it("logs a write the apiserver keeps failing, after three tries, and never throws", async () => {
    api.failing.add("boom");
    const events = recorder();
    expect(() => events.record(about("boom"))).not.toThrow();
    events.record(about("fine"));
    expect(await events.flush(5_000)).toBe(true);
    expect(api.requests.filter((r) => r.body.message === "boom")).toHaveLength(3);
    expect([...api.stored.values()].map((e) => e.message)).toEqual(["fine"]);
    expect(lines).toEqual(["event Progressing for Rollout ns/web: etcd is sad (after 3 tries)"]);
  });

  it("flush resolves once the writes under way are answered, and says so; false at its timeout", async () => {
    api.hold();
    const events = recorder();
    events.record(about("step 1"));
    let flushed: boolean | undefined;
    const flush = events.flush(5_000).then((ok) => (flushed = ok));
    expect(await events.flush(50)).toBe(false);
    await eventually("the POST to arrive", () => api.requests.length === 1);
    expect(flushed).toBeUndefined();
    api.release();
    await flush;
    expect(flushed).toBe(true);
    expect(api.stored.size).toBe(1);
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
    expect([...api.stored.values()].map((e) => e.message)).toEqual(["step 1"]);
  });
});
