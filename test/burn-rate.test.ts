// The burnRate provider against a real Prometheus holding seven hours of backfilled request counters
// (promtool tsdb create-blocks-from openmetrics), so the SRE workbook's 1h/5m and 6h/30m windows
// have data. Each scenario is one ReplicaSet (pod_template_hash) of Service checkout: 1000 requests
// a minute with its own errors. No cluster needed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { providerFor } from "../src/analysis/providers/registry.ts";
import type { ProviderOutcome } from "../src/analysis/types.ts";
import { analysisTemplateSpec, type Metric } from "../src/api/analysis.ts";
import { analyze } from "../src/cli/analyze.ts";
import { loopbackDoor } from "./helpers.ts";
import { type PrometheusFixture, startPrometheusFixture } from "./prometheus-fixture.ts";

const START_S = Date.UTC(2025, 2, 1) / 1000;
const MINUTES = 7 * 60 + 10;
/** Measured at 7 hours in; the last 10 minutes are never looked at. */
const NOW_MINUTE = 7 * 60;
const NOW = new Date((START_S + NOW_MINUTE * 60) * 1000);
const PER_MINUTE = 1000;

/** Errors per minute of each scenario, by minutes before NOW (negative: before). */
const SCENARIOS: Record<string, (minutesAgo: number) => number> = {
  // 0.05% errors: half the budget's pace of a 99.9% SLO.
  healthy: () => 0.5,
  // 5% errors for the last 20 minutes: a fast burn.
  outage: (ago) => (ago < 20 ? 50 : 0.5),
  // 4% from 50 to 10 minutes ago, then clean: the 1h window still remembers, the 5m one does not.
  recovered: (ago) => (ago >= 10 && ago < 50 ? 40 : 0.5),
  // 0.8% throughout: 8x, a slow burn only the 6h pair sees.
  slow: () => 8,
  // Service catalog never answered a 5xx: it has no 5xx series at all.
  clean: () => 0,
};

function history(): string {
  const lines = ["# TYPE http_requests counter"];
  for (const [hash, errors] of Object.entries(SCENARIOS)) {
    const service = hash === "clean" ? "catalog" : "checkout";
    const labels = (code: string) => `{namespace="shop",service="${service}",pod_template_hash="${hash}",code="${code}"}`;
    let good = 0;
    let bad = 0;
    const ok: string[] = [];
    const failed: string[] = [];
    for (let m = 0; m < MINUTES; m++) {
      const e = m === 0 ? 0 : errors(NOW_MINUTE - m);
      bad += e;
      good += m === 0 ? 0 : PER_MINUTE - e;
      ok.push(`http_requests_total${labels("200")} ${good} ${START_S + m * 60}`);
      failed.push(`http_requests_total${labels("500")} ${bad} ${START_S + m * 60}`);
    }
    lines.push(...ok, ...(bad > 0 ? failed : []));
  }
  return `${lines.join("\n")}\n# EOF\n`;
}

let fixture: PrometheusFixture;
beforeAll(async () => {
  fixture = await startPrometheusFixture(history());
}, 120_000);
afterAll(async () => {
  await fixture?.stop();
});

const WORKBOOK = [
  { long: "1h", short: "5m", factor: 14.4 },
  { long: "6h", short: "30m", factor: 6 },
];
type Doc = Record<string, unknown>;

/** One metric as the schema admits it (defaults filled in). */
const metricOf = (burnRate: Doc, rest: Doc = {}): Metric =>
  analysisTemplateSpec.parse({ metrics: [{ name: "burn", ...rest, provider: { burnRate } }] }).metrics[0] as Metric;

const traffic = (hash: string) => ({ source: "http", service: "checkout", namespace: "shop", podTemplateHash: hash });

async function measure(metric: Metric): Promise<ProviderOutcome> {
  return providerFor(metric)!.measure(metric, { args: {}, now: NOW, defaultPrometheusUrl: fixture.url, outbound: loopbackDoor });
}

const values = (o: ProviderOutcome) => (o.ok && Array.isArray(o.value) ? o.value : []);

describe("burnRate over the workbook's pairs (99.9%)", () => {
  it.each([
    // [1h, 5m, 6h, 30m] burn rates.
    { hash: "healthy", verdict: "Successful", firing: "false", rates: [0.5, 0.5, 0.5, 0.5] },
    // 1h: 20 minutes at 5% -> 1.7% -> 17x; 6h: (20 x 50 + 340 x 0.5) / 360,000 -> 3.25x.
    { hash: "outage", verdict: "Failed", firing: "true", rates: [17, 50, 3.25, 33.8] },
    // The 1h pair's short window is clean again: no page, though the hour burnt at 27x.
    { hash: "recovered", verdict: "Successful", firing: "false", rates: [26.8, 0.5, 4.9, 26.8] },
    { hash: "slow", verdict: "Failed", firing: "true", rates: [8, 8, 8, 8] },
  ])("$hash: $verdict", async ({ hash, verdict, firing, rates }) => {
    const outcome = await measure(metricOf({ objective: 0.999, traffic: traffic(hash), windows: WORKBOOK }));
    expect(outcome).toMatchObject({ ok: true, verdict, metadata: { firing } });
    const measured = values(outcome);
    expect(measured).toHaveLength(4);
    // increase() extrapolates to the window's edges: figures within 10%.
    for (const [i, v] of measured.entries()) {
      expect(Math.abs(v - (rates[i] as number)) / (rates[i] as number), `window ${i}: ${v}`).toBeLessThan(0.1);
    }
  });

  it("the slow burn fires the 6h pair only", async () => {
    const outcome = await measure(metricOf({ objective: 0.999, traffic: traffic("slow"), windows: WORKBOOK }));
    expect(outcome.ok && outcome.metadata).toMatchObject({
      pair0: expect.not.stringContaining("firing"),
      pair1: expect.stringMatching(/^6h\/30m at 6x: .* firing$/),
    });
  });

  it("a good/total pair of queries gives the same answer as the traffic source", async () => {
    const sel = (extra: string) => `{namespace="shop",service="checkout",pod_template_hash="outage"${extra}}`;
    const queries = {
      good: `sum(increase(http_requests_total${sel(',code!~"5.."')}[{{window}}]))`,
      total: `sum(increase(http_requests_total${sel("")}[{{window}}]))`,
    };
    const [byQueries, bySource] = await Promise.all([
      measure(metricOf({ objective: 0.999, queries, windows: WORKBOOK })),
      measure(metricOf({ objective: 0.999, traffic: traffic("outage"), windows: WORKBOOK })),
    ]);
    expect(byQueries).toMatchObject({ ok: true, verdict: "Failed" });
    for (const [i, v] of values(byQueries).entries()) expect(v).toBeCloseTo(values(bySource)[i] as number, 6);
  });

  it("no traffic is no data, not a verdict", async () => {
    const outcome = await measure(metricOf({ objective: 0.999, traffic: traffic("absent"), windows: WORKBOOK }));
    expect(outcome).toMatchObject({ ok: true, value: undefined });
    expect(outcome.ok && outcome.verdict).toBeUndefined();
  });
});

describe("burnRate's canary defaults (interval 1m: 12m/1m at 14.4x, 36m/3m at 6x)", () => {
  it.each([
    { hash: "healthy", verdict: "Successful" },
    { hash: "outage", verdict: "Failed" },
    // 10 clean minutes: both short windows (1m, 3m) are clean.
    { hash: "recovered", verdict: "Successful" },
    { hash: "slow", verdict: "Failed" },
  ])("$hash: $verdict", async ({ hash, verdict }) => {
    const outcome = await measure(metricOf({ objective: 0.999, traffic: traffic(hash) }, { interval: "1m" }));
    expect(outcome).toMatchObject({ ok: true, verdict });
    expect(outcome.ok && outcome.metadata?.pair0).toMatch(/^12m\/1m at 14.4x/);
    expect(outcome.ok && outcome.metadata?.pair1).toMatch(/^36m\/3m at 6x/);
  });
});

describe("burnRate's budget over a window (the errorBudget step's check)", () => {
  it.each([
    // 99% over 1h: 0.05% errors leave 95%; the outage's 1.7% overspent it.
    { hash: "healthy", objective: 0.99, window: "1h", verdict: "Successful", remaining: 0.95 },
    { hash: "outage", objective: 0.99, window: "1h", verdict: "Failed", remaining: -0.7 },
    // The recovered service's last 10 minutes are clean: that window's budget is there again.
    { hash: "recovered", objective: 0.99, window: "10m", verdict: "Successful", remaining: 0.95 },
  ])("$hash over $window: $verdict", async ({ hash, objective, window, verdict, remaining }) => {
    const outcome = await measure(metricOf({ objective, traffic: traffic(hash), budget: { window } }));
    expect(outcome).toMatchObject({ ok: true, verdict });
    expect(outcome.ok && (outcome.value as number)).toBeCloseTo(remaining, 1);
  });
});

describe("the example http-error-rate on a service that never served a 5xx", () => {
  const dir = mkdtempSync(join(tmpdir(), "ramp-burn-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const example = parseAllDocuments(readFileSync("examples/analysis-templates.yaml", "utf8"))
    .map((d) => d.toJS() as { metadata: { name: string }; spec: { metrics: { provider: { prometheus: { query: string } } }[] } })
    .find((d) => d.metadata.name === "http-error-rate");
  const run = (query: string) => {
    const doc = structuredClone(example);
    if (!doc) throw new Error("no http-error-rate example");
    (doc.spec.metrics[0] as { provider: { prometheus: { query: string } } }).provider.prometheus.query = query;
    const file = join(dir, `t${Math.random()}.yaml`);
    writeFileSync(file, stringify(doc));
    return analyze({ file, arg: ["service=catalog", "namespace=shop"], prometheus: fixture.url, at: NOW.toISOString() });
  };
  const query = example?.spec.metrics[0]?.provider.prometheus.query ?? "";

  it("as shipped (numerator or vector(0)): Successful, with error rate 0", async () => {
    const { phase, text } = await run(query);
    expect(phase).toBe("Successful");
    expect(text).toMatch(/value 0\b/);
  });

  it("without the guard: no data, Inconclusive, and ramp analyze says why", async () => {
    const unguarded = query.replace(/^\((.*) or vector\(0\)\)/m, "$1");
    expect(unguarded).not.toContain("vector(0)");
    const { phase, text } = await run(unguarded);
    expect(phase).toBe("Inconclusive");
    expect(text).toMatch(/note: the ratio's numerator selects series its denominator does not \(code=~"5\.\."\)/);
  });
});
