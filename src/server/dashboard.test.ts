// The Grafana dashboards may only query what ControllerMetrics and the traffic sources (as the dev
// simulator exports them) expose, so the two can't drift apart; every ramp_ metric is on one of them.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { simulatorMetrics } from "../dev/simulator/simulator.ts";
import { dashboardQueries, loadDashboards, panelsOf, parsePromQL, queryVariables } from "./dashboards.ts";
import { ControllerMetrics } from "./metrics.ts";

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
const DATASOURCE = "${datasource}";
// Prometheus adds these to every series it scrapes.
const TARGET_LABELS = ["job", "instance"];
const dashboards = loadDashboards();

/** Every series name a registry's scrape shows, with its label names. */
async function seriesOf(registry: Registry, into: Map<string, Set<string>>): Promise<void> {
  for (const metric of await registry.getMetricsAsJSON()) {
    into.set(metric.name, into.get(metric.name) ?? new Set());
    for (const value of metric.values) {
      // Histogram values name their series (_bucket, _sum, _count); prom-client's types leave metricName out.
      const name = (value as { metricName?: string }).metricName ?? metric.name;
      const labels = into.get(name) ?? new Set();
      for (const label of Object.keys(value.labels)) labels.add(label);
      into.set(name, labels);
    }
  }
}

/** What the controller and the simulator expose, each observer method and series used once so labelled series appear. */
async function exposedSeries(): Promise<Map<string, Set<string>>> {
  const metrics = new ControllerMetrics({ queueDepth: () => 1, version: "test" });
  metrics.reconciled("done", 0.01);
  metrics.apiRequest("GET", new URL("https://h/apis/ramp.dev/v1alpha1/rollouts"), 200);
  metrics.watchFailure("Rollout");
  metrics.notificationDelivered("webhook:oncall");
  metrics.notificationAttemptFailed("webhook:oncall");
  metrics.notificationDeadLettered("webhook:oncall", "DELIVERY_FAILED");
  metrics.rollout("prod", "web", {
    phase: "Healthy",
    strategy: "canary",
    step: 1,
    canaryWeight: 10,
    desiredReplicas: 3,
    availableReplicas: 3,
    updatedReplicas: 1,
    services: [{ role: "canary", service: "web-canary" }],
  });
  metrics.rolloutTransition("prod", "web", "canary", {
    aborted: true,
    promoted: true,
    rolledBack: true,
    healthyAfterSeconds: 60,
  });
  metrics.rolloutEvents("prod", "web", ["RolloutUpdated"]);
  const owner = [{ kind: "Rollout", name: "web", controller: true }];
  const result = {
    name: "errors",
    phase: "Running" as const,
    measurements: [{ phase: "Successful" as const, value: "0.1", startedAt: "t", finishedAt: "t" }],
  };
  metrics.analysisRun("prod/web-1", {
    metadata: { namespace: "prod", name: "web-1", ownerReferences: owner },
    status: { phase: "Running", metricResults: [result] },
  });
  metrics.analysisRun("prod/web-1", {
    metadata: { namespace: "prod", name: "web-1", ownerReferences: owner },
    status: { phase: "Successful", metricResults: [result] },
  });
  const series = new Map<string, Set<string>>();
  await seriesOf(metrics.registry, series);

  const registry = new Registry();
  for (const metric of Object.values(simulatorMetrics(registry))) {
    const labels = Object.fromEntries(((metric as unknown as { labelNames: string[] }).labelNames ?? []).map((l) => [l, "x"]));
    if ("observe" in metric) metric.observe(labels, 1);
    else metric.inc(labels);
  }
  await seriesOf(registry, series);
  return series;
}

describe("parsePromQL", () => {
  it.each([
    {
      expr: 'histogram_quantile(0.99, sum by (le) (rate(a_bucket{job=~"$job", x="1"}[$__rate_interval])))',
      parsed: { selectors: [{ metric: "a_bucket", labels: ["job", "x"] }], grouping: ["le"], replaced: [] },
    },
    {
      expr: "sum by (verb, code) (rate(b_total[5m])) / on (verb) group_left c",
      parsed: {
        selectors: [
          { metric: "b_total", labels: [] },
          { metric: "c", labels: [] },
        ],
        grouping: ["verb", "code", "verb"],
        replaced: [],
      },
    },
    {
      expr: 'a * on (dst) group_left (role) label_replace(max by (service, role) (b{n="$n"}), "dst", "$1", "service", "(.*)")',
      parsed: {
        selectors: [
          { metric: "a", labels: [] },
          { metric: "b", labels: ["n"] },
        ],
        grouping: ["dst", "role", "service", "role"],
        replaced: [["dst", "service"]],
      },
    },
    {
      expr: '(e{r="$r"} - e{r="$r"} offset $__interval) > 0',
      parsed: {
        selectors: [
          { metric: "e", labels: ["r"] },
          { metric: "e", labels: ["r"] },
        ],
        grouping: [],
        replaced: [],
      },
    },
  ])("parses $expr", ({ expr, parsed }) => {
    expect(parsePromQL(expr)).toEqual(parsed);
  });
});

describe.each(dashboards)("dashboards/$file", ({ dashboard }) => {
  const panels = panelsOf(dashboard);

  it("has panels with unique ids, each querying the datasource variable, and a job variable that never mixes jobs", () => {
    expect(panels.length).toBeGreaterThanOrEqual(5);
    const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(DATASOURCE);
    }
    const declared = dashboard.templating.list.map((v) => `${v.type}:${v.name}`);
    expect(declared).toEqual(expect.arrayContaining(["datasource:datasource", "query:job", "query:namespace", "query:rollout"]));
    expect(queryVariables(dashboard).find((v) => v.name === "job")).toEqual({
      name: "job",
      selector: "ramp_build_info",
      label: "job",
      includeAll: false,
    });
    // Every query names the job exactly, or reads a series only Ramp's job exports.
    for (const { where, expr } of dashboardQueries(dashboard)) {
      if (where === "variable job") continue;
      const ramp = parsePromQL(expr).selectors.filter((s) => s.metric.startsWith("ramp_"));
      for (const s of ramp) expect(s.labels, `${where}: ${s.metric}`).toContain("job");
      expect(expr, where).not.toContain('job=~"');
    }
  });

  it("shows Ramp's Events as annotations", () => {
    const events = dashboard.annotations.list.find((a) => a.name === "Ramp events");
    expect(events?.datasource?.uid).toBe(DATASOURCE);
    expect(events?.expr).toContain("ramp_events_total");
  });

  it("queries only series and labels that the controller or the traffic sources expose", async () => {
    const series = await exposedSeries();
    for (const { where, expr, shows } of dashboardQueries(dashboard)) {
      const { selectors, grouping, replaced } = parsePromQL(expr);
      expect(selectors.length, `${where}: ${expr}`).toBeGreaterThan(0);
      const known = new Set(TARGET_LABELS);
      for (const { metric, labels } of selectors) {
        const exposed = series.get(metric);
        expect(exposed, `${where}: ${metric} is not a series the controller or the simulator exposes`).toBeDefined();
        for (const label of exposed ?? []) known.add(label);
        for (const label of labels)
          expect(TARGET_LABELS.includes(label) || exposed?.has(label), `${where}: ${metric}{${label}}`).toBe(true);
      }
      for (const [made, from] of replaced) {
        expect(known.has(from), `${where}: label_replace from ${from}`).toBe(true);
        known.add(made);
      }
      for (const label of grouping) expect(known.has(label), `${where}: grouping by ${label}`).toBe(true);
      for (const label of shows) expect(known.has(label), `${where}: shows {{${label}}}`).toBe(true);
    }
  });
});

it("shows every ramp_ metric of the controller on some dashboard (the process metrics on the controller's)", async () => {
  const queried = new Set(
    dashboards.flatMap(({ dashboard }) =>
      dashboardQueries(dashboard).flatMap((q) =>
        parsePromQL(q.expr).selectors.map((s) => s.metric.replace(/_(?:bucket|sum|count)$/, "")),
      ),
    ),
  );
  const metrics = new ControllerMetrics({ queueDepth: () => 0 });
  const ramp = (await metrics.registry.getMetricsAsJSON())
    .map((m) => m.name)
    .filter((n) => n.startsWith("ramp_") && !/^ramp_(?:process|nodejs)_/.test(n));
  expect(ramp.filter((name) => !queried.has(name))).toEqual([]);
  expect([...queried].filter((n) => /^ramp_process_/.test(n)).sort()).toEqual([
    "ramp_process_cpu_seconds_total",
    "ramp_process_resident_memory_bytes",
  ]);
});
