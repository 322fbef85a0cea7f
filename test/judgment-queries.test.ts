// The judgment study (bench/judgment.ts) computes what each template's queries would give from the
// simulated series instead of asking Prometheus. This checks that arithmetic: a few simulated
// canaries are backfilled into a real Prometheus, and at each of their measurement times every
// metric is measured by its real provider there and compared with the study's outcome (same
// verdict, same value within float rounding). No cluster needed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUCKETS, simulate, type Traffic, type Version, wobble } from "../bench/judgment/canary.ts";
import { CANARY_HASH, methods, NAMESPACE, SERVICE, STABLE_HASH, type World } from "../bench/judgment/methods.ts";
import { seeded, seedOf } from "../bench/judgment/random.ts";
import { providerFor } from "../src/analysis/providers/registry.ts";
import type { MeasuredValue, ProviderOutcome } from "../src/analysis/types.ts";
import type { Metric } from "../src/api/analysis.ts";
import { loopbackDoor } from "./helpers.ts";
import { type Family, openMetrics, type PrometheusFixture, type Series, startPrometheusFixture } from "./prometheus-fixture.ts";

/** Each canary gets its own hour, long past (backfill stays clear of the last 3 hours). */
const FIRST_START_S = Date.UTC(2025, 1, 1) / 1000;
const SIMULATED_S = 300;
const MEASURED_AT = [60, 120, 180, 240, 300];

interface Case {
  name: string;
  canary: Version;
  baseline: Version;
  errorRate: number;
}
const version = (rps: number, errorRate: number, p99Seconds = 0.25): Version => ({
  requestsPerSecond: rps,
  errorRate,
  medianSeconds: 0.1,
  p99Seconds,
});
const CASES: Case[] = [
  { name: "10 req/s, twice the errors", canary: version(10, 0.02), baseline: version(40, 0.01), errorRate: 0.01 },
  { name: "100 req/s, good", canary: version(100, 0.003), baseline: version(400, 0.003), errorRate: 0.003 },
  { name: "1 req/s, slower", canary: version(1, 0.001, 0.3125), baseline: version(4, 0.001), errorRate: 0.001 },
  { name: "30 req/s, slower", canary: version(30, 0.003, 0.3125), baseline: version(120, 0.003), errorRate: 0.003 },
];

const worlds: World[] = CASES.map((c, i) => {
  const u = seeded(seedOf(17, i));
  const shared = wobble(u, { errorRate: 0.2, latency: 0.03 }, SIMULATED_S / 60);
  const own = { errorRate: 0.05, latency: 0.01 };
  return { canary: simulate(u, c.canary, shared, own, SIMULATED_S), baseline: simulate(u, c.baseline, shared, own, SIMULATED_S) };
});

function seriesOf(traffic: Traffic, hash: string, startS: number): { requests: Series[]; latency: Series[] } {
  const labels = { namespace: NAMESPACE, service: SERVICE, pod_template_hash: hash };
  const times = traffic.times.map((t) => startS + t);
  const buckets = traffic.buckets.map((values, b) => ({
    name: "http_request_duration_seconds_bucket",
    labels: { ...labels, le: BUCKETS[b] === Number.POSITIVE_INFINITY ? "+Inf" : String(BUCKETS[b]) },
    values,
    times,
  }));
  const count = traffic.buckets.at(-1) as number[];
  return {
    requests: [
      { name: "http_requests_total", labels: { ...labels, code: "200" }, values: traffic.ok, times },
      { name: "http_requests_total", labels: { ...labels, code: "500" }, values: traffic.errors, times },
    ],
    latency: [
      ...buckets,
      { name: "http_request_duration_seconds_count", labels, values: count, times },
      { name: "http_request_duration_seconds_sum", labels, values: count.map((c) => c * 0.1), times },
    ],
  };
}

function history(): string {
  const requests: Series[] = [];
  const latency: Series[] = [];
  worlds.forEach((w, i) => {
    for (const [traffic, hash] of [
      [w.canary, CANARY_HASH],
      [w.baseline, STABLE_HASH],
    ] as const) {
      const s = seriesOf(traffic, hash, FIRST_START_S + i * 3600);
      requests.push(...s.requests);
      latency.push(...s.latency);
    }
  });
  const families: Family[] = [
    { name: "http_requests", type: "counter", series: requests },
    { name: "http_request_duration_seconds", type: "histogram", series: latency },
  ];
  return openMetrics(families);
}

let prometheus: PrometheusFixture;
beforeAll(async () => {
  prometheus = await startPrometheusFixture(history());
});
afterAll(async () => {
  await prometheus?.stop();
});

const measureAt = (metric: Metric, caseIndex: number, at: number): Promise<ProviderOutcome> =>
  (providerFor(metric) as NonNullable<ReturnType<typeof providerFor>>).measure(metric, {
    args: {},
    now: new Date((FIRST_START_S + caseIndex * 3600 + at) * 1000),
    defaultPrometheusUrl: prometheus.url,
    outbound: loopbackDoor,
  });

/** Two values the same but for float rounding; NaN equals NaN, undefined undefined. */
function expectSameValue(actual: MeasuredValue | undefined, expected: MeasuredValue | undefined, where: string) {
  if (expected === undefined || actual === undefined) return expect(actual, where).toEqual(expected);
  const [a, e] = [[actual].flat(), [expected].flat()];
  expect(a.length, where).toBe(e.length);
  e.forEach((v, i) => {
    const got = a[i] as number;
    if (Number.isNaN(v)) expect(got, where).toBeNaN();
    else expect(Math.abs(got - v), `${where}: ${got} vs ${v}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v)));
  });
}

describe.each(CASES.map((c, i) => ({ ...c, i })))("$name", ({ i, errorRate }) => {
  const world = worlds[i] as World;
  const studied = methods({ errorRate, p99Seconds: 0.25 });
  const metrics = studied.flatMap((m) => m.spec.metrics.map((metric) => ({ method: m, metric })));

  it.each(metrics.map(({ method, metric }) => ({ label: `${method.name}: ${metric.name}`, method, metric })))(
    "$label gives what the study computed at every measurement",
    async ({ method, metric }) => {
      for (const at of MEASURED_AT) {
        const expected = (method.measure[metric.name] as NonNullable<(typeof method.measure)[string]>)(world, at);
        const actual = await measureAt(metric, i, at);
        const where = `${metric.name} at ${at}s: ${JSON.stringify(actual)}`;
        expect(actual.ok, where).toBe(true);
        if (!actual.ok || !expected.ok) continue;
        expect(actual.verdict, where).toBe(expected.verdict);
        expectSameValue(actual.value, expected.value, where);
      }
    },
  );
});
