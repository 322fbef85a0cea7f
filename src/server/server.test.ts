import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "./metrics.ts";
import { buildServer, type Readiness, type ServerOptions, startServer } from "./server.ts";

const server = (opts: Partial<ServerOptions> = {}) =>
  buildServer({ port: 0, metrics: new ControllerMetrics({ queueDepth: () => 2 }), ready: () => true, ...opts });

describe("buildServer", () => {
  it.each<{ healthy: (() => boolean) | undefined; status: number; body: unknown }>([
    { healthy: undefined, status: 200, body: "ok" },
    { healthy: () => true, status: 200, body: "ok" },
    {
      healthy: () => false,
      status: 500,
      body: {
        statusCode: 500,
        code: "RAMP_UNHEALTHY",
        error: "Internal Server Error",
        message: "the controller reports itself unhealthy",
      },
    },
  ])("answers /healthz with $status when healthy() is $healthy", async ({ healthy, status, body }) => {
    const res = await server(healthy ? { healthy } : {}).inject("/healthz");
    expect(res.statusCode).toBe(status);
    expect(typeof body === "string" ? res.body : res.json()).toEqual(body);
  });

  it.each<{ ready: Readiness; status: number; body: unknown }>([
    { ready: true, status: 200, body: { ready: true } },
    { ready: { ready: true }, status: 200, body: { ready: true } },
    { ready: false, status: 503, body: { ready: false } },
    {
      ready: { ready: false, reason: "caches not synced yet" },
      status: 503,
      body: { ready: false, reason: "caches not synced yet" },
    },
  ])("answers /readyz with $status for $ready", async ({ ready, status, body }) => {
    const res = await server({ ready: () => ready }).inject("/readyz");
    expect(res.statusCode).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual(body);
  });

  it("reads readiness on each request", async () => {
    let synced = false;
    const app = server({ ready: () => synced });
    expect((await app.inject("/readyz")).statusCode).toBe(503);
    synced = true;
    expect((await app.inject("/readyz")).statusCode).toBe(200);
  });

  it("serves the metrics with prom-client's content type", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 4, version: "9.9.9" });
    metrics.reconciled("done", 0.003);
    const res = await server({ metrics }).inject("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe(metrics.contentType);
    expect(res.body).toMatch(/^ramp_workqueue_depth 4$/m);
    expect(res.body).toMatch(/^ramp_reconcile_total\{outcome="done"\} 1$/m);
    expect(res.body).toMatch(/^ramp_build_info\{version="9\.9\.9"\} 1$/m);
  });

  it.each([
    {
      what: "an unknown path",
      request: { method: "GET" as const, url: "/nope" },
      status: 404,
      code: "RAMP_NOT_FOUND",
      message: "no route for GET /nope",
    },
    {
      what: "a known path with another method",
      request: { method: "POST" as const, url: "/metrics" },
      status: 404,
      code: "RAMP_NOT_FOUND",
      message: "no route for POST /metrics",
    },
    {
      what: "a malformed URL",
      request: { method: "GET" as const, url: "/healthz%zz" },
      status: 400,
      code: "RAMP_BAD_REQUEST",
      message: expect.stringContaining("/healthz%zz"),
    },
  ])("answers $what with $status $code as JSON", async ({ request, status, code, message }) => {
    const res = await server().inject(request);
    expect(res.statusCode).toBe(status);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ statusCode: status, code, error: expect.any(String), message });
  });

  it.each([
    {
      what: "a failing readiness check",
      opts: {
        ready: () => {
          throw new Error("boom");
        },
      },
      url: "/readyz",
      code: "RAMP_INTERNAL",
      message: "internal server error",
    },
    {
      what: "a failing metrics collection",
      opts: {
        metrics: new ControllerMetrics({
          queueDepth: () => {
            throw new Error("queue gone");
          },
        }),
      },
      url: "/metrics",
      code: "RAMP_METRICS_FAILED",
      message: "collecting the metrics failed: queue gone",
    },
  ])("answers $what with 500 $code", async ({ opts, url, code, message }) => {
    const res = await server(opts).inject(url);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ statusCode: 500, code, error: "Internal Server Error", message });
  });
});

describe("startServer", () => {
  it("listens on 127.0.0.1 on a free port and stops on close", async () => {
    const running = await startServer({
      port: 0,
      metrics: new ControllerMetrics({ queueDepth: () => 0 }),
      ready: () => ({ ready: false, reason: "caches not synced yet" }),
    });
    try {
      expect(running.port).toBeGreaterThan(0);
      expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
      const health = await fetch(`${running.url}/healthz`);
      expect([health.status, await health.text()]).toEqual([200, "ok"]);
      const ready = await fetch(`${running.url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([503, { ready: false, reason: "caches not synced yet" }]);
      const metrics = await fetch(`${running.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^ramp_process_resident_memory_bytes \d/m);
    } finally {
      await running.close();
    }
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  });
});
