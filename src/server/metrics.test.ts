import { describe, expect, it } from "vitest";
import type { ReconcileOutcome, RolloutGauge } from "../rollout/observer.ts";
import { apiCode, apiVerb, ControllerMetrics } from "./metrics.ts";

/** The samples of one series name as a scrape exposes it: labels and value. Histogram values name their
 * series (`_bucket`, `_sum`, `_count`), though prom-client's types leave `metricName` out. */
async function samples(metrics: ControllerMetrics, name: string): Promise<{ labels: Record<string, unknown>; value: number }[]> {
  const all = await metrics.registry.getMetricsAsJSON();
  return all
    .flatMap((m) =>
      m.values.map((v) => ({ name: (v as { metricName?: string }).metricName ?? m.name, labels: v.labels, value: v.value })),
    )
    .filter((s) => s.name === name)
    .map(({ labels, value }) => ({ labels, value }));
}

const GAUGE: RolloutGauge = {
  phase: "Progressing",
  strategy: "canary",
  step: 2,
  canaryWeight: 20,
  desiredReplicas: 10,
  availableReplicas: 9,
  updatedReplicas: 2,
};

const ROLLOUT_SERIES = ["ramp_rollout_info", "ramp_rollout_step", "ramp_rollout_canary_weight", "ramp_rollout_replicas"];

describe("ControllerMetrics", () => {
  it.each<{ outcome: ReconcileOutcome; errors: number }>([
    { outcome: "done", errors: 0 },
    { outcome: "requeue", errors: 0 },
    { outcome: "error", errors: 1 },
  ])("counts a $outcome reconcile, its duration and $errors errors", async ({ outcome, errors }) => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.reconciled(outcome, 0.02);
    const totals = await samples(metrics, "ramp_reconcile_total");
    expect(totals).toEqual(
      expect.arrayContaining([
        { labels: { outcome }, value: 1 },
        ...["done", "requeue", "error"].filter((o) => o !== outcome).map((o) => ({ labels: { outcome: o }, value: 0 })),
      ]),
    );
    expect(await samples(metrics, "ramp_reconcile_errors_total")).toEqual([{ labels: {}, value: errors }]);
    expect(await samples(metrics, "ramp_reconcile_duration_seconds_count")).toEqual([{ labels: {}, value: 1 }]);
    const buckets = await samples(metrics, "ramp_reconcile_duration_seconds_bucket");
    expect(buckets.find((b) => b.labels.le === 0.01)?.value).toBe(0);
    expect(buckets.find((b) => b.labels.le === 0.025)?.value).toBe(1);
  });

  it("exposes one rollout's gauges", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rollout("prod", "web", GAUGE);
    const id = { namespace: "prod", name: "web" };
    expect(await samples(metrics, "ramp_rollout_info")).toEqual([
      { labels: { ...id, strategy: "canary", phase: "Progressing" }, value: 1 },
    ]);
    expect(await samples(metrics, "ramp_rollout_step")).toEqual([{ labels: id, value: 2 }]);
    expect(await samples(metrics, "ramp_rollout_canary_weight")).toEqual([{ labels: id, value: 20 }]);
    expect(await samples(metrics, "ramp_rollout_replicas")).toEqual([
      { labels: { ...id, kind: "desired" }, value: 10 },
      { labels: { ...id, kind: "available" }, value: 9 },
      { labels: { ...id, kind: "updated" }, value: 2 },
    ]);
  });

  it("keeps exactly one phase series per rollout when the phase changes", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rollout("prod", "web", GAUGE);
    metrics.rollout("prod", "api", GAUGE);
    metrics.rollout("prod", "web", { ...GAUGE, phase: "Paused" });
    metrics.rollout("prod", "web", { ...GAUGE, phase: "Healthy" });
    const info = await samples(metrics, "ramp_rollout_info");
    expect(info.map((s) => `${s.labels.name} ${s.labels.phase} ${s.value}`).sort()).toEqual([
      "api Progressing 1",
      "web Healthy 1",
    ]);
  });

  it("removes every series of a rollout that is gone, and only its own", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rollout("prod", "web", GAUGE);
    metrics.rollout("prod", "api", { ...GAUGE, strategy: "blueGreen", phase: "Degraded" });
    metrics.rollout("prod", "web", undefined);
    for (const name of ROLLOUT_SERIES) {
      const left = await samples(metrics, name);
      expect(left.length, name).toBeGreaterThan(0);
      expect(left.every((s) => s.labels.name === "api")).toBe(true);
    }
    metrics.rollout("prod", "api", undefined);
    metrics.rollout("prod", "never-seen", undefined);
    for (const name of ROLLOUT_SERIES) expect(await samples(metrics, name), name).toEqual([]);
  });

  it.each([
    { method: "GET", verb: "get" },
    { method: "LIST", verb: "list" },
    { method: "WATCH", verb: "watch" },
    { method: "POST", verb: "create" },
    { method: "PUT", verb: "update" },
    { method: "PATCH", verb: "patch" },
    { method: "DELETE", verb: "delete" },
    { method: "patch", verb: "patch" },
    { method: "create", verb: "create" },
    { method: "deletecollection", verb: "deletecollection" },
    { method: "OPTIONS", verb: "other" },
    { method: "", verb: "other" },
  ])("labels $method requests with verb $verb", ({ method, verb }) => {
    expect(apiVerb(method)).toBe(verb);
  });

  it.each([
    { status: 200, code: "200" },
    { status: 409, code: "409" },
    { status: 0, code: "0" },
    { status: Number.NaN, code: "0" },
  ])("labels status $status with code $code", ({ status, code }) => {
    expect(apiCode(status)).toBe(code);
  });

  it("counts apiserver requests by verb and code", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.apiRequest("PATCH", 200);
    metrics.apiRequest("PATCH", 200);
    metrics.apiRequest("PUT", 409);
    metrics.apiRequest("GET", 0);
    expect(await samples(metrics, "ramp_api_requests_total")).toEqual([
      { labels: { verb: "patch", code: "200" }, value: 2 },
      { labels: { verb: "update", code: "409" }, value: 1 },
      { labels: { verb: "get", code: "0" }, value: 1 },
    ]);
  });

  it("counts watch failures by resource", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.watchFailure("Rollout");
    metrics.watchFailure("Rollout");
    metrics.watchFailure("ReplicaSet");
    expect(await samples(metrics, "ramp_watch_failures_total")).toEqual([
      { labels: { resource: "Rollout" }, value: 2 },
      { labels: { resource: "ReplicaSet" }, value: 1 },
    ]);
  });

  it("reads the queue depth at scrape time", async () => {
    let depth = 3;
    const metrics = new ControllerMetrics({ queueDepth: () => depth });
    expect(await metrics.metricsText()).toMatch(/^ramp_workqueue_depth 3$/m);
    depth = 7;
    expect(await metrics.metricsText()).toMatch(/^ramp_workqueue_depth 7$/m);
  });

  it("exposes the build version and the process metrics in the Prometheus text format", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0, version: "1.2.3" });
    const text = await metrics.metricsText();
    expect(text).toMatch(/^ramp_build_info\{version="1\.2\.3"\} 1$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await new ControllerMetrics({ queueDepth: () => 0 }).metricsText()).toMatch(
      /^ramp_build_info\{version="unknown"\} 1$/m,
    );
  });

  it("keeps separate instances apart", async () => {
    const first = new ControllerMetrics({ queueDepth: () => 0 });
    const second = new ControllerMetrics({ queueDepth: () => 0 });
    first.reconciled("done", 0.01);
    expect(await samples(first, "ramp_reconcile_duration_seconds_count")).toEqual([{ labels: {}, value: 1 }]);
    expect(await samples(second, "ramp_reconcile_duration_seconds_count")).toEqual([{ labels: {}, value: 0 }]);
  });
});
