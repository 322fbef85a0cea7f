// The dashboard's server without a cluster: what it refuses before any call to the apiserver, and
// the first push of a stream.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KubeClient } from "../kube/client.ts";
import { type RunningDashboard, startDashboard } from "./server.ts";
import { ClusterWatches } from "./watches.ts";

// Nothing listens there; the watches are never started, so no call is made.
const client = new KubeClient({ server: "http://127.0.0.1:9" });
let dashboard: RunningDashboard;

beforeAll(async () => {
  const assets = new Map([["main.js", { type: "text/javascript; charset=utf-8", body: Buffer.from("export {}") }]]);
  dashboard = await startDashboard({ port: 0, watches: new ClusterWatches(client, "shop"), assets, client });
});
afterAll(() => dashboard.close());

/** One request with the headers given as they are (fetch would not let Host be set). */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const url = new URL(path, dashboard.url);
  return new Promise<{ status: number; type: string; text: string }>((resolve, reject) => {
    const req = request(url, { method, headers: { host: url.host, ...headers } }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
        // A stream never ends: its first event is enough.
        if (res.headers["content-type"]?.startsWith("text/event-stream") && text.includes("\n\n")) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), text });
      res.on("end", done);
      res.on("close", done);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("dashboard server", () => {
  it.each([
    ["the page", "GET", "/", {}, 200, "text/html"],
    ["an asset", "GET", "/assets/main.js", {}, 200, "text/javascript"],
    ["no such asset", "GET", "/assets/nope.js", {}, 404, "text/plain"],
    ["another Host (DNS rebinding)", "GET", "/api/rollouts", { host: "evil.example:3100" }, 421, "text/plain"],
    [
      "an action without a JSON body (a cross-site form)",
      "POST",
      "/api/rollouts/shop/web/promote",
      { "content-type": "text/plain" },
      415,
      "application/json",
    ],
    [
      "an unknown action",
      "POST",
      "/api/rollouts/shop/web/delete",
      { "content-type": "application/json" },
      404,
      "application/json",
    ],
    ["a rollout not (yet) listed", "GET", "/api/rollouts/shop/web", {}, 404, "application/json"],
  ])("%s: %s %s -> %i", async (_what, method, path, headers, status, type) => {
    const res = await send(method, path, headers, method === "POST" ? "{}" : undefined);
    expect([res.status, res.type.split(";")[0]]).toEqual([status, type]);
  });

  it("a stream pushes the view at once", async () => {
    const res = await send("GET", "/api/stream");
    expect(res.type).toMatch(/^text\/event-stream/);
    expect(JSON.parse(res.text.replace(/^data: /, ""))).toEqual({ rollouts: [], synced: false, issues: [] });
  });
});

describe("dashboard streams", () => {
  it("are bounded: one over the limit is 503, and a closed stream frees its place", async () => {
    const assets = new Map();
    const small = await startDashboard({ port: 0, watches: new ClusterWatches(client, "shop"), assets, client, maxStreams: 1 });
    try {
      const url = new URL("/api/stream", small.url);
      // The first stream stays open until its first event has come; then it is closed by hand.
      const first = await new Promise<{ close: () => void }>((resolve, reject) => {
        const req = request(url, (res) => res.once("data", () => resolve({ close: () => res.destroy() })));
        req.on("error", reject);
        req.end();
      });
      const over = await fetch(url);
      expect([over.status, over.headers.get("retry-after")]).toEqual([503, "10"]);
      expect(await over.json()).toMatchObject({ message: expect.stringMatching(/1 streams are open/) });
      first.close();
      const again = await vi.waitFor(
        async () => {
          const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
          if (res.status !== 200) throw new Error(`still ${res.status}`);
          return res;
        },
        { timeout: 10_000, interval: 100 },
      );
      expect(again.headers.get("content-type")).toMatch(/^text\/event-stream/);
      await again.body?.cancel();
    } finally {
      await small.close();
    }
  });
});
