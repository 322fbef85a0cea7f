import { describe, expect, it } from "vitest";
import type { ObservedAnalysisRun } from "../analysis/observer.ts";
import type { AnalysisRunStatus } from "../api/analysis.ts";
import type { ReconcileOutcome, RolloutGauge } from "../rollout/observer.ts";
import { apiCode, ControllerMetrics, measuredNumber, OTHER, RolloutSlots } from "./metrics.ts";

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
  services: [],
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
    { status: 200, code: "200" },
    { status: 409, code: "409" },
    { status: 0, code: "0" },
    { status: Number.NaN, code: "0" },
  ])("labels status $status with code $code", ({ status, code }) => {
    expect(apiCode(status)).toBe(code);
  });

  it("counts apiserver requests by verb, resource and code", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    const rollout = new URL("https://h/apis/ramp.dev/v1alpha1/namespaces/prod/rollouts/web/status");
    metrics.apiRequest("PATCH", rollout, 200);
    metrics.apiRequest("PATCH", rollout, 200);
    metrics.apiRequest("PUT", rollout, 409);
    metrics.apiRequest("GET", new URL("https://h/apis/apps/v1/namespaces/prod/replicasets"), 0);
    expect(await samples(metrics, "ramp_api_requests_total")).toEqual([
      { labels: { verb: "patch", resource: "rollouts/status", code: "200" }, value: 2 },
      { labels: { verb: "update", resource: "rollouts/status", code: "409" }, value: 1 },
      { labels: { verb: "list", resource: "replicasets", code: "0" }, value: 1 },
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

  it("reads the Events dropped (a counter from zero) and pending (a gauge) at scrape time", async () => {
    let [dropped, pending] = [0, 0];
    const metrics = new ControllerMetrics({ queueDepth: () => 0, eventsDropped: () => dropped, eventsPending: () => pending });
    expect(await metrics.metricsText()).toMatch(/^# TYPE ramp_events_dropped_total counter\nramp_events_dropped_total 0$/m);
    expect(await metrics.metricsText()).toMatch(/^ramp_events_pending 0$/m);
    [dropped, pending] = [12, 3];
    expect(await metrics.metricsText()).toMatch(/^ramp_events_dropped_total 12$/m);
    expect(await metrics.metricsText()).toMatch(/^ramp_events_pending 3$/m);
  });

  it("exposes the build version and the process metrics, prefixed ramp_, in the Prometheus text format", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0, version: "1.2.3" });
    const text = await metrics.metricsText();
    expect(text).toMatch(/^ramp_build_info\{version="1\.2\.3"\} 1$/m);
    expect(text).toMatch(/^ramp_process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^ramp_process_resident_memory_bytes \d/m);
    expect(text).not.toMatch(/^(?:process|nodejs)_/m);
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

  it("gives the first maxRollouts Rollouts series of their own, counts the rest under _other, and frees a deleted one's slot", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0, maxRollouts: 2 });
    for (const name of ["a", "b", "c"]) metrics.rollout("prod", name, GAUGE);
    metrics.rolloutTransition("prod", "c", "canary", { aborted: true, promoted: false, rolledBack: false });
    metrics.rolloutEvents("prod", "c", ["RolloutAborted"]);
    expect((await samples(metrics, "ramp_rollout_info")).map((s) => s.labels.name)).toEqual(["a", "b"]);
    expect(await samples(metrics, "ramp_metrics_rollouts_untracked")).toEqual([{ labels: {}, value: 1 }]);
    expect(await samples(metrics, "ramp_rollout_aborts_total")).toEqual([
      { labels: { namespace: "prod", name: "a" }, value: 0 },
      { labels: { namespace: "prod", name: "b" }, value: 0 },
      { labels: { namespace: OTHER, name: OTHER }, value: 1 },
    ]);
    expect(await samples(metrics, "ramp_events_total")).toEqual([
      { labels: { namespace: OTHER, rollout: OTHER, reason: "RolloutAborted" }, value: 1 },
    ]);
    metrics.rollout("prod", "a", undefined);
    metrics.rollout("prod", "c", GAUGE);
    expect((await samples(metrics, "ramp_rollout_info")).map((s) => s.labels.name)).toEqual(["b", "c"]);
    expect(await samples(metrics, "ramp_metrics_rollouts_untracked")).toEqual([{ labels: {}, value: 0 }]);
  });

  it.each([
    { change: { aborted: true, promoted: false, rolledBack: false }, series: "ramp_rollout_aborts_total" },
    { change: { aborted: false, promoted: true, rolledBack: false }, series: "ramp_rollout_promotions_total" },
    { change: { aborted: false, promoted: false, rolledBack: true }, series: "ramp_rollout_rollbacks_total" },
  ])("counts $series", async ({ change, series }) => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rolloutTransition("prod", "web", "canary", change);
    for (const name of ["ramp_rollout_aborts_total", "ramp_rollout_promotions_total", "ramp_rollout_rollbacks_total"]) {
      expect(await samples(metrics, name), name).toEqual([
        { labels: { namespace: "prod", name: "web" }, value: name === series ? 1 : 0 },
      ]);
    }
  });

  it("observes the time to Healthy, and drops a namespace's histogram with its last Rollout", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rolloutTransition("prod", "web", "canary", {
      aborted: false,
      promoted: true,
      rolledBack: false,
      healthyAfterSeconds: 90,
    });
    const buckets = await samples(metrics, "ramp_rollout_duration_seconds_bucket");
    expect(buckets.find((b) => b.labels.le === 60)).toEqual({
      labels: { namespace: "prod", strategy: "canary", le: 60 },
      value: 0,
    });
    expect(buckets.find((b) => b.labels.le === 120)?.value).toBe(1);
    expect(await samples(metrics, "ramp_rollout_duration_seconds_count")).toEqual([
      { labels: { namespace: "prod", strategy: "canary" }, value: 1 },
    ]);
    metrics.rollout("prod", "web", undefined);
    expect(await samples(metrics, "ramp_rollout_duration_seconds_count")).toEqual([]);
  });

  it("shows the Services a Rollout names by role, and removes them with it", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    const services = [
      { role: "stable", service: "web-stable" },
      { role: "canary", service: "web-canary" },
    ] as const;
    metrics.rollout("prod", "web", { ...GAUGE, services: [...services] });
    metrics.rollout("prod", "web", { ...GAUGE, services: [services[0]] });
    expect(await samples(metrics, "ramp_rollout_service_role")).toEqual([
      { labels: { namespace: "prod", name: "web", role: "stable", service: "web-stable" }, value: 1 },
    ]);
    metrics.rollout("prod", "web", undefined);
    expect(await samples(metrics, "ramp_rollout_service_role")).toEqual([]);
  });

  it("counts Events by reason and removes them with their Rollout", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rolloutEvents("prod", "web", ["RolloutUpdated", "StepCompleted"]);
    metrics.rolloutEvents("prod", "web", ["StepCompleted"]);
    expect(await samples(metrics, "ramp_events_total")).toEqual([
      { labels: { namespace: "prod", rollout: "web", reason: "RolloutUpdated" }, value: 1 },
      { labels: { namespace: "prod", rollout: "web", reason: "StepCompleted" }, value: 2 },
    ]);
    metrics.rollout("prod", "web", undefined);
    expect(await samples(metrics, "ramp_events_total")).toEqual([]);
  });

  it.each([
    { text: "0.25", value: 0.25 },
    { text: "[3]", value: 3 },
    { text: "[1, 2]", value: undefined },
    { text: "[]", value: undefined },
    { text: "NaN", value: undefined },
    { text: "", value: undefined },
    { text: undefined, value: undefined },
  ])("reads the measured value $text as $value", ({ text, value }) => {
    expect(measuredNumber(text)).toBe(value);
  });

  const run = (name: string, startedAt: string, status: AnalysisRunStatus, rollout = "web"): ObservedAnalysisRun => ({
    metadata: { namespace: "prod", name, ownerReferences: [{ kind: "Rollout", name: rollout, controller: true }] },
    status: { startedAt, ...status },
  });
  const measured = (name: string, phase: "Running" | "Successful" | "Failed", value: string) => ({
    name,
    phase,
    measurements: [{ phase: "Successful" as const, value, startedAt: "t", finishedAt: "t" }],
  });

  it("shows runs by phase, each metric's phase and value from the newest run, and counts verdicts once", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    metrics.rollout("prod", "web", GAUGE);
    metrics.analysisRun(
      "prod/old",
      run("old", "2026-01-01T00:00:00Z", { phase: "Successful", metricResults: [measured("errors", "Successful", "0.01")] }),
    );
    metrics.analysisRun(
      "prod/new",
      run("new", "2026-01-01T01:00:00Z", { phase: "Running", metricResults: [measured("errors", "Running", "0.2")] }),
    );
    const id = { namespace: "prod", rollout: "web" };
    expect(await samples(metrics, "ramp_analysis_runs")).toEqual([
      { labels: { ...id, phase: "Successful" }, value: 1 },
      { labels: { ...id, phase: "Running" }, value: 1 },
    ]);
    expect(await samples(metrics, "ramp_analysis_metric_phase")).toEqual([
      { labels: { ...id, metric: "errors", phase: "Running" }, value: 1 },
    ]);
    expect(await samples(metrics, "ramp_analysis_metric_value")).toEqual([{ labels: { ...id, metric: "errors" }, value: 0.2 }]);
    // The first sight of a run that had ended counts nothing; seeing one end counts it, once.
    const verdicts = async () => (await samples(metrics, "ramp_analysis_runs_finished_total")).filter((s) => s.value > 0);
    expect(await samples(metrics, "ramp_analysis_runs_finished_total")).toHaveLength(4);
    expect(await verdicts()).toEqual([]);
    const failed = run("new", "2026-01-01T01:00:00Z", { phase: "Failed", metricResults: [measured("errors", "Failed", "0.3")] });
    metrics.analysisRun("prod/new", failed);
    metrics.analysisRun("prod/new", failed);
    expect(await verdicts()).toEqual([{ labels: { ...id, phase: "Failed" }, value: 1 }]);
    metrics.analysisRun("prod/new", undefined);
    expect(await samples(metrics, "ramp_analysis_metric_value")).toEqual([{ labels: { ...id, metric: "errors" }, value: 0.01 }]);
  });

  it("shows at most maxMetricsPerRollout metrics per Rollout, and none of Rollouts beyond the cap", async () => {
    const metrics = new ControllerMetrics({ queueDepth: () => 0, maxRollouts: 1, maxMetricsPerRollout: 2 });
    metrics.rollout("prod", "web", GAUGE);
    metrics.rollout("prod", "api", GAUGE);
    const results = ["c", "a", "b"].map((m) => measured(m, "Running", "1"));
    metrics.analysisRun("prod/w", run("w", "t", { phase: "Running", metricResults: results }));
    metrics.analysisRun("prod/x", run("x", "t", { phase: "Running", metricResults: results }, "api"));
    expect((await samples(metrics, "ramp_analysis_metric_value")).map((s) => `${s.labels.rollout}/${s.labels.metric}`)).toEqual([
      "web/a",
      "web/b",
    ]);
    expect(await samples(metrics, "ramp_analysis_runs")).toEqual([
      { labels: { namespace: "prod", rollout: "web", phase: "Running" }, value: 1 },
      { labels: { namespace: OTHER, rollout: OTHER, phase: "Running" }, value: 1 },
    ]);
  });

  it("RolloutSlots frees a slot only for a tracked Rollout", () => {
    const slots = new RolloutSlots(1);
    expect([slots.admit("a", "x"), slots.admit("a", "y"), slots.untrackedCount]).toEqual([true, false, 1]);
    expect([slots.forget("a", "y"), slots.hasNamespace("a"), slots.untrackedCount]).toEqual([false, true, 0]);
    expect([slots.forget("a", "x"), slots.hasNamespace("a"), slots.admit("a", "y")]).toEqual([true, false, true]);
  });
});
