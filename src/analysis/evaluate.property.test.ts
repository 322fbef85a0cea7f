// Random metrics, limits and provider outcomes driven through dueMetrics/advanceRun as the controller
// would: the history must always be possible.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AnalysisPhase, type AnalysisRunSpec, type AnalysisRunStatus, analysisRunSpec } from "../api/analysis.ts";
import { advanceRun, dueMetrics, effectiveCount, isTerminal, type Measurement, type MetricResult } from "./evaluate.ts";
import type { ProviderOutcome } from "./types.ts";

const CONDITIONS = [
  { successCondition: "result < 0.5" },
  { failureCondition: "result > 0.8" },
  { successCondition: "result < 0.3", failureCondition: "result > 0.7" },
  { successCondition: "result.all(x, x < 0.5)" },
  { successCondition: "default(result[1], 0) < 0.5", failureCondition: "isNaN(result[0])" },
  { successCondition: "result[5] < 1" },
  {},
];

const metricArb = fc.record({
  interval: fc.option(fc.constantFrom("1s", "10s", "1m"), { nil: undefined }),
  initialDelay: fc.option(fc.constantFrom("5s", "30s"), { nil: undefined }),
  count: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  failureLimit: fc.integer({ min: 0, max: 3 }),
  inconclusiveLimit: fc.integer({ min: 0, max: 3 }),
  consecutiveErrorLimit: fc.integer({ min: 0, max: 4 }),
  consecutiveSuccessLimit: fc.integer({ min: 0, max: 3 }),
  noData: fc.constantFrom("inconclusive", "fail", "pass"),
  conditions: fc.constantFrom(...CONDITIONS),
  /** dry run named by the spec-level list, said by the metric itself, or not at all: the first two must agree. */
  dryRun: fc.constantFrom("list" as const, "own" as const, undefined),
  retention: fc.integer({ min: 1, max: 4 }),
});

const sample = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(Number.NaN));
const outcomeArb: fc.Arbitrary<ProviderOutcome> = fc.oneof(
  fc.record({
    ok: fc.constant(true as const),
    value: fc.oneof(sample, fc.array(sample, { maxLength: 3 }), fc.constant(undefined)),
  }),
  fc.record({
    ok: fc.constant(true as const),
    value: fc.constant(0.1),
    verdict: fc.constantFrom("Successful" as const, "Failed" as const, "Inconclusive" as const),
  }),
  fc.record({ ok: fc.constant(false as const), code: fc.constant("PROMETHEUS_UNREACHABLE"), message: fc.constant("down") }),
);

type MetricConfig = typeof metricArb extends fc.Arbitrary<infer T> ? T : never;

function specOf(configs: MetricConfig[]): AnalysisRunSpec {
  return analysisRunSpec.parse({
    metrics: configs.map(({ conditions, dryRun, retention: _r, ...c }, i) => ({
      name: `m${i}`,
      dryRun: dryRun === "own",
      provider: { prometheus: { query: "up" } },
      ...conditions,
      ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)),
    })),
    dryRun: configs.flatMap((c, i) => (c.dryRun === "list" ? [{ metricName: `m${i}` }] : [])),
    measurementRetention: configs.map((c, i) => ({ metricName: `m${i}`, limit: c.retention })),
  });
}

const trailing = (history: Measurement[], phase: AnalysisPhase) => {
  let n = 0;
  for (let i = history.length - 1; i >= 0 && history[i]?.phase === phase; i--) n++;
  return n;
};
const tally = (history: Measurement[], phase: AnalysisPhase) => history.filter((m) => m.phase === phase).length;

describe("advanceRun over random histories", () => {
  it("never produces an impossible history", () => {
    fc.assert(
      fc.property(
        fc.array(metricArb, { minLength: 1, maxLength: 3 }),
        fc.array(outcomeArb, { minLength: 1, maxLength: 60 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        fc.array(fc.boolean(), { maxLength: 80 }),
        (configs, outcomes, terminateAt, eager) => {
          const base = specOf(configs);
          const retention = new Map(configs.map((c, i) => [`m${i}`, c.retention]));
          const dryRun = new Set(configs.flatMap((c, i) => (c.dryRun ? [`m${i}`] : [])));
          const history = new Map<string, Measurement[]>(base.metrics.map((m) => [m.name, []]));
          let status: AnalysisRunStatus | undefined;
          let now = Date.parse("2026-01-01T00:00:00Z");
          let next = 0;
          for (let step = 0; step < 80; step++) {
            const spec = terminateAt !== undefined && step >= terminateAt ? { ...base, terminate: true } : base;
            // Now and then the shell measures every metric, due or not, ended or not.
            const due = eager[step] ? spec.metrics : dueMetrics(spec, status, new Date(now));
            const given: Record<string, ProviderOutcome> = {};
            for (const m of due) given[m.name] = outcomes[next++ % outcomes.length] as ProviderOutcome;
            const before = status;
            const result = advanceRun(spec, status, new Date(now), given);
            status = result.status;

            // An ended run never changes.
            if (before && isTerminal(before.phase)) {
              expect(status).toBe(before);
              break;
            }
            for (const [i, metric] of spec.metrics.entries()) {
              const r = status.metricResults?.[i] as MetricResult;
              const prev = before?.metricResults?.[i];
              expect(r.name).toBe(metric.name);
              // An ended metric never changes, and takes no measurement.
              if (prev && isTerminal(prev.phase)) {
                expect(r).toEqual(prev);
                continue;
              }
              const h = history.get(metric.name) as Measurement[];
              if (given[metric.name]) h.push(r.measurements?.at(-1) as Measurement);
              // Counters agree with every measurement ever taken; the kept ones are the newest.
              expect(r.count ?? 0).toBe(tally(h, "Successful") + tally(h, "Failed") + tally(h, "Inconclusive"));
              expect(r.successful ?? 0).toBe(tally(h, "Successful"));
              expect(r.failed ?? 0).toBe(tally(h, "Failed"));
              expect(r.inconclusive ?? 0).toBe(tally(h, "Inconclusive"));
              expect(r.error ?? 0).toBe(tally(h, "Error"));
              expect(r.consecutiveError ?? 0).toBe(trailing(h, "Error"));
              expect(r.consecutiveSuccess ?? 0).toBe(trailing(h, "Successful"));
              expect(r.measurements ?? []).toEqual(h.slice(-(retention.get(metric.name) as number)));
              expect(r.dryRun === true).toBe(dryRun.has(metric.name));
              const count = effectiveCount(metric);
              if (count !== undefined) expect(r.count ?? 0).toBeLessThanOrEqual(count);
              // A phase always has its reason in the counters.
              const failedPast = (r.failed ?? 0) > metric.failureLimit;
              const inconclusivePast = (r.inconclusive ?? 0) > metric.inconclusiveLimit;
              const errorsPast = (r.consecutiveError ?? 0) > metric.consecutiveErrorLimit;
              switch (r.phase) {
                case "Successful":
                case "Pending":
                case "Running":
                  expect([failedPast, inconclusivePast, errorsPast]).toEqual([false, false, false]);
                  break;
                case "Failed":
                  expect(failedPast).toBe(true);
                  break;
                case "Error":
                  expect(errorsPast).toBe(true);
                  break;
                case "Inconclusive":
                  expect(inconclusivePast || (metric.consecutiveSuccessLimit > 0 && (r.count ?? 0) === count)).toBe(true);
                  break;
              }
              if (r.phase === "Pending") expect(h).toEqual([]);
            }
            // The run's phase follows from its deciding metrics.
            const results = status.metricResults ?? [];
            const deciding = results.filter((r) => !dryRun.has(r.name));
            if (isTerminal(status.phase)) {
              expect(result.requeueAfterMs).toBeUndefined();
              expect(results.every((r) => isTerminal(r.phase))).toBe(true);
              if (status.phase === "Successful") expect(deciding.every((r) => r.phase === "Successful")).toBe(true);
              else expect(deciding.some((r) => r.phase === status?.phase)).toBe(true);
            } else {
              expect(status.phase).toBe("Running");
              expect(spec.terminate).not.toBe(true);
              expect(deciding.every((r) => !isTerminal(r.phase) || r.phase === "Successful")).toBe(true);
              expect(result.requeueAfterMs).toBeGreaterThanOrEqual(0);
              now += result.requeueAfterMs as number;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    // 300 random runs of up to 60 steps: about 2 s on a quiet machine, over 10 s on a loaded one.
  }, 60_000);
});
