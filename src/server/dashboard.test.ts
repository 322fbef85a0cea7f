// The Grafana dashboard may only query what ControllerMetrics exposes, so the two can't drift apart.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "./metrics.ts";

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; legendFormat?: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string }; datasource?: { uid: string } }[] };
}

const dashboard: Dashboard = JSON.parse(readFileSync(new URL("../../dashboards/ramp-controller.json", import.meta.url), "utf8"));
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");
// Query variables are all `label_values(selector, label)`.
const variables = dashboard.templating.list
  .filter((v) => v.type === "query")
  .map((v) => {
    const query = typeof v.query === "string" ? v.query : v.query.query;
    const [, selector = "", label = ""] = /^label_values\((.*),\s*(\w+)\)$/.exec(query) ?? [];
    return { name: v.name, selector, label };
  });
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
const DATASOURCE = "${datasource}";
// Prometheus adds these to every series it scrapes.
const TARGET_LABELS = ["job", "instance"];

/** Every series name a scrape shows, with its label names; each observer method is called once so labelled series appear. */
async function exposedSeries(): Promise<Map<string, Set<string>>> {
  const metrics = new ControllerMetrics({ queueDepth: () => 1, version: "test" });
  metrics.reconciled("done", 0.01);
  metrics.apiRequest("GET", 200);
  metrics.watchFailure("Rollout");
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
  const series = new Map<string, Set<string>>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    series.set(metric.name, series.get(metric.name) ?? new Set());
    for (const value of metric.values) {
      // Histogram values name their series (_bucket, _sum, _count); prom-client's types leave metricName out.
      const name = (value as { metricName?: string }).metricName ?? metric.name;
      const labels = series.get(name) ?? new Set();
      for (const label of Object.keys(value.labels)) labels.add(label);
      series.set(name, labels);
    }
  }
  return series;
}

/** The series selectors of a PromQL expression (metric and matcher labels) and the labels it groups by. */
function parsePromQL(expr: string): { selectors: { metric: string; labels: string[] }[]; grouping: string[] } {
  const grouping: string[] = [];
  const rest = expr
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\b\s*(?:\(([^)]*)\))?/g, (_all, labels?: string) => {
      if (labels) grouping.push(...labels.split(",").map((l) => l.trim()));
      return " ";
    });
  const selectors: { metric: string; labels: string[] }[] = [];
  // An identifier followed by "(" is a function or an aggregation; a braced block right after a metric is its matchers.
  for (const m of rest.matchAll(/([a-zA-Z_:][\w:]*)\s*(?:\{([^}]*)\})?(\s*\()?/g)) {
    const [, metric = "", matchers = "", call] = m;
    if (call || ["and", "or", "unless", "bool", "offset"].includes(metric)) continue;
    selectors.push({ metric, labels: [...matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? "") });
  }
  return { selectors, grouping };
}

describe("dashboards/ramp-controller.json", () => {
  it.each([
    {
      expr: 'histogram_quantile(0.99, sum by (le) (rate(a_bucket{job=~"$job", x="1"}[$__rate_interval])))',
      parsed: { selectors: [{ metric: "a_bucket", labels: ["job", "x"] }], grouping: ["le"] },
    },
    {
      expr: "sum by (verb, code) (rate(b_total[5m])) / on (verb) group_left c",
      parsed: {
        selectors: [
          { metric: "b_total", labels: [] },
          { metric: "c", labels: [] },
        ],
        grouping: ["verb", "code", "verb"],
      },
    },
  ])("parses the PromQL $expr", ({ expr, parsed }) => {
    expect(parsePromQL(expr)).toEqual(parsed);
  });

  it("has panels with unique ids, each querying the datasource variable", () => {
    expect(panels.length).toBeGreaterThanOrEqual(10);
    const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toBe(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(DATASOURCE);
    }
    const declared = dashboard.templating.list.map((v) => `${v.type}:${v.name}`);
    expect(declared).toEqual(expect.arrayContaining(["datasource:datasource", "query:namespace", "query:rollout"]));
  });

  it("queries only series and labels that ControllerMetrics exposes", async () => {
    const series = await exposedSeries();
    const check = (where: string, expr: string, legendFormat = "") => {
      const { selectors, grouping } = parsePromQL(expr);
      expect(selectors.length, `${where}: ${expr}`).toBeGreaterThan(0);
      const known = new Set(TARGET_LABELS);
      for (const { metric, labels } of selectors) {
        const exposed = series.get(metric);
        expect(exposed, `${where}: ${metric} is not a series ControllerMetrics exposes`).toBeDefined();
        for (const label of exposed ?? []) known.add(label);
        for (const label of labels)
          expect(TARGET_LABELS.includes(label) || exposed?.has(label), `${where}: ${metric}{${label}}`).toBe(true);
      }
      for (const label of grouping) expect(known.has(label), `${where}: grouping by ${label}`).toBe(true);
      for (const [, label] of legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        expect(known.has(label ?? ""), `${where}: legend {{${label}}}`).toBe(true);
      }
    };
    for (const panel of panels) for (const t of panel.targets ?? []) check(panel.title, t.expr, t.legendFormat);
    for (const { name, selector, label } of variables) check(`variable ${name}`, `sum by (${label}) (${selector})`);
  });

  it("shows every ramp_ metric somewhere", async () => {
    const queried = new Set(
      [...panels.flatMap((p) => p.targets ?? []).map((t) => t.expr), ...variables.map((v) => v.selector)].flatMap((expr) =>
        parsePromQL(expr).selectors.map((s) => s.metric.replace(/_(?:bucket|sum|count)$/, "")),
      ),
    );
    const metrics = new ControllerMetrics({ queueDepth: () => 0 });
    const ramp = (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith("ramp_"));
    expect(ramp.filter((name) => !queried.has(name))).toEqual([]);
  });
});
