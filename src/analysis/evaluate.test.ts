import { describe, expect, it } from "vitest";
import {
  type AnalysisPhase,
  type AnalysisRunSpec,
  type AnalysisRunStatus,
  analysisRunSpec,
  type Metric,
} from "../api/analysis.ts";
import type { Code } from "../api/codes.ts";
import {
  advanceRun,
  applyMeasurement,
  conditionProblem,
  dryRunNames,
  dueMetrics,
  effectiveCount,
  type Measurement,
  type MetricResult,
  measurementFrom,
  metricPhase,
  nextMeasurementAt,
  retentionFor,
  runPhase,
} from "./evaluate.ts";
import type { ProviderOutcome } from "./types.ts";

type MetricInput = Record<string, unknown>;
const rawMetric = (over: MetricInput = {}) => ({
  name: "m",
  provider: { prometheus: { query: "up" } },
  successCondition: "result < 0.05",
  ...over,
});
const runSpec = (metrics: MetricInput[], extra: Record<string, unknown> = {}): AnalysisRunSpec =>
  analysisRunSpec.parse({ metrics: metrics.map(rawMetric), ...extra });
const metric = (over: MetricInput = {}): Metric => runSpec([over]).metrics[0]!;

const T0 = new Date("2026-11-22T10:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const ok = (
  value: number | number[] | undefined,
  extra: Partial<Extract<ProviderOutcome, { ok: true }>> = {},
): ProviderOutcome => ({
  ok: true,
  value,
  ...extra,
});
const fail = (code: Code = "PROMETHEUS_UNREACHABLE", message = "connection refused"): ProviderOutcome => ({
  ok: false,
  code,
  message,
});

describe("measurementFrom", () => {
  it.each<[string, MetricInput, ProviderOutcome, Partial<Measurement>]>([
    ["error outcome", {}, fail("PROMETHEUS_TIMEOUT", "took 10s"), { phase: "Error", message: "PROMETHEUS_TIMEOUT: took 10s" }],
    ["success true", {}, ok(0.01), { phase: "Successful", value: "0.01" }],
    ["success false", {}, ok(0.5), { phase: "Failed", value: "0.5" }],
    ["success at the edge", {}, ok(0.05), { phase: "Failed" }],
    ["failure only, true", { successCondition: undefined, failureCondition: "result > 0.1" }, ok(0.5), { phase: "Failed" }],
    ["failure only, false", { successCondition: undefined, failureCondition: "result > 0.1" }, ok(0.01), { phase: "Successful" }],
    ["both, failure true", { failureCondition: "result > 0.1" }, ok(0.5), { phase: "Failed" }],
    ["both, success true", { failureCondition: "result > 0.1" }, ok(0.01), { phase: "Successful" }],
    ["both, neither: the grey zone", { failureCondition: "result > 0.1" }, ok(0.07), { phase: "Inconclusive" }],
    [
      "both true: failure wins",
      { successCondition: "result > 0", failureCondition: "result > 0.1" },
      ok(0.5),
      { phase: "Failed" },
    ],
    ["no conditions, no verdict", { successCondition: undefined }, ok(3), { phase: "Successful", value: "3" }],
    ["verdict wins over conditions", {}, ok(0.9, { verdict: "Successful" }), { phase: "Successful", value: "0.9" }],
    ["verdict wins over no data", {}, ok(undefined, { verdict: "Failed" }), { phase: "Failed" }],
    ["Inconclusive verdict", {}, ok([], { verdict: "Inconclusive" }), { phase: "Inconclusive", value: "[]" }],
    ["several series", { successCondition: "result.all(x, x < 0.05)" }, ok([0.01, 0.02]), { phase: "Successful" }],
    ["several series, one bad", { successCondition: "result.all(x, x < 0.05)" }, ok([0.01, 0.2]), { phase: "Failed" }],
    ["some NaN is data", { successCondition: "result.exists(x, isNaN(x))" }, ok([Number.NaN, 1]), { phase: "Successful" }],
    ["NaN with default()", { successCondition: "default(result[0], 0) < 0.05" }, ok([Number.NaN, 1]), { phase: "Successful" }],
    ["list value text", {}, ok([0.01, 2]), { value: "[0.01, 2]" }],
    [
      "bad successCondition",
      { successCondition: "result <" },
      ok(1),
      {
        phase: "Error",
        message: expect.stringMatching(/^BAD_CONDITION: successCondition: condition "result <" does not compile/),
      },
    ],
    [
      "failureCondition not a bool",
      { successCondition: undefined, failureCondition: "result" },
      ok(1),
      { phase: "Error", value: "1", message: expect.stringMatching(/^CONDITION_NOT_BOOL: failureCondition: /) },
    ],
    [
      "a condition over its cost budget",
      { successCondition: "result.all(a, result.all(b, result.all(c, a + b + c >= 0)))" },
      ok(Array(400).fill(0.5)),
      {
        phase: "Error",
        message: expect.stringMatching(
          /^CONDITION_BUDGET_EXCEEDED: successCondition: condition .* (cost budget of 1000000|time limit of 1000 ms)/,
        ),
      },
    ],
    [
      "scalar condition on several values",
      {},
      ok([1, 2]),
      { phase: "Error", message: expect.stringMatching(/^CONDITION_ERROR: successCondition: .*result holds 2 values/) },
    ],
  ])("%s", (_name, over, outcome, expected) => {
    expect(measurementFrom(metric(over), outcome, at(0))).toMatchObject(expected);
  });

  it.each<[string, number | number[] | undefined, "inconclusive" | "fail" | "pass", AnalysisPhase]>([
    ["undefined", undefined, "inconclusive", "Inconclusive"],
    ["undefined", undefined, "fail", "Failed"],
    ["undefined", undefined, "pass", "Successful"],
    ["empty list", [], "inconclusive", "Inconclusive"],
    ["empty list", [], "fail", "Failed"],
    ["empty list", [], "pass", "Successful"],
    ["NaN", Number.NaN, "inconclusive", "Inconclusive"],
    ["NaN", Number.NaN, "fail", "Failed"],
    ["NaN", Number.NaN, "pass", "Successful"],
    ["all NaN", [Number.NaN, Number.NaN], "inconclusive", "Inconclusive"],
    ["all NaN", [Number.NaN, Number.NaN], "fail", "Failed"],
    ["all NaN", [Number.NaN, Number.NaN], "pass", "Successful"],
  ])("no data (%s) with noData %s is %s", (_name, value, noData, phase) => {
    // A condition that would error on any input proves no data never reaches the conditions.
    const m = measurementFrom(metric({ noData, successCondition: "result" }), ok(value), at(0));
    expect(m).toMatchObject({ phase, message: `no data (noData: ${noData})` });
  });

  it("stamps the time and copies the provider's metadata", () => {
    const metadata = { query: "up" };
    const m = measurementFrom(metric(), { ok: false, code: "PROVIDER_ERROR", message: "y", metadata }, at(5));
    expect(m).toEqual({
      phase: "Error",
      message: "PROVIDER_ERROR: y",
      startedAt: iso(5),
      finishedAt: iso(5),
      metadata: { query: "up" },
    });
    expect(m.metadata).not.toBe(metadata);
  });

  it("shows at most 100 values of a long result", () => {
    const m = measurementFrom(metric({ successCondition: "size(result) > 0" }), ok(Array.from({ length: 150 }, () => 1)), at(0));
    expect(m.value).toMatch(/^\[1, 1, .*, 1, … 50 more\]$/);
    expect(m.value?.split(", ")).toHaveLength(101);
  });
});

const counters = (c: Partial<MetricResult>): MetricResult => ({ name: "m", phase: "Running", ...c });

describe("metricPhase", () => {
  it.each<[string, MetricInput, Partial<MetricResult>, AnalysisPhase, RegExp?]>([
    ["nothing measured yet", {}, { phase: "Pending" }, "Pending"],
    ["only errors so far, within the limit", {}, { error: 4, consecutiveError: 4 }, "Running"],
    [
      "consecutiveErrorLimit 4 at the edge",
      { interval: "1m" },
      { count: 1, successful: 1, error: 4, consecutiveError: 4 },
      "Running",
    ],
    [
      "consecutiveErrorLimit 4 past the edge",
      {},
      { error: 5, consecutiveError: 5 },
      "Error",
      /5 errors in a row > consecutiveErrorLimit 4/,
    ],
    ["consecutiveErrorLimit 0 past the edge", { consecutiveErrorLimit: 0 }, { error: 1, consecutiveError: 1 }, "Error"],
    ["errors not in a row", { interval: "1m" }, { count: 1, successful: 1, error: 9, consecutiveError: 1 }, "Running"],
    ["failureLimit 0 past the edge", { interval: "1m" }, { count: 1, failed: 1 }, "Failed", /1 failed > failureLimit 0/],
    ["failureLimit 2 at the edge", { interval: "1m", failureLimit: 2 }, { count: 2, failed: 2 }, "Running"],
    ["failureLimit 2 past the edge", { interval: "1m", failureLimit: 2 }, { count: 3, failed: 3 }, "Failed"],
    [
      "inconclusiveLimit 0 past the edge",
      { interval: "1m" },
      { count: 1, inconclusive: 1 },
      "Inconclusive",
      /1 inconclusive > inconclusiveLimit 0/,
    ],
    ["inconclusiveLimit 1 at the edge", { interval: "1m", inconclusiveLimit: 1 }, { count: 1, inconclusive: 1 }, "Running"],
    [
      "inconclusiveLimit 1 past the edge",
      { interval: "1m", inconclusiveLimit: 1 },
      { count: 2, inconclusive: 2 },
      "Inconclusive",
    ],
    ["default count 1 without interval", {}, { count: 1, successful: 1 }, "Successful", /count 1 reached/],
    ["count 3, one short", { count: 3, interval: "1m" }, { count: 2, successful: 2 }, "Running"],
    ["count 3 reached", { count: 3, interval: "1m" }, { count: 3, successful: 3 }, "Successful", /count 3 reached/],
    [
      "count reached with failures within the limit",
      { count: 3, interval: "1m", failureLimit: 1 },
      { count: 3, successful: 2, failed: 1 },
      "Successful",
    ],
    [
      "count reached with inconclusive within the limit",
      { count: 3, interval: "1m", inconclusiveLimit: 1 },
      { count: 3, successful: 2, inconclusive: 1 },
      "Successful",
    ],
    [
      "count reached, last failure past the limit",
      { count: 3, interval: "1m", failureLimit: 1 },
      { count: 3, failed: 2 },
      "Failed",
    ],
    ["count 0 with interval: unbounded", { count: 0, interval: "1m" }, { count: 500, successful: 500 }, "Running"],
    ["count 0 without interval: one", { count: 0 }, { count: 1, successful: 1 }, "Successful"],
    [
      "streak 3, one short",
      { interval: "1m", consecutiveSuccessLimit: 3 },
      { count: 2, successful: 2, consecutiveSuccess: 2 },
      "Running",
    ],
    [
      "streak 3 reached before the count",
      { interval: "1m", count: 10, consecutiveSuccessLimit: 3, failureLimit: 1 },
      { count: 4, successful: 3, failed: 1, consecutiveSuccess: 3 },
      "Successful",
      /3 successful in a row/,
    ],
    [
      "count reached without the streak",
      { interval: "1m", count: 3, consecutiveSuccessLimit: 3, inconclusiveLimit: 5 },
      { count: 3, successful: 2, inconclusive: 1, consecutiveSuccess: 1 },
      "Inconclusive",
      /count 3 reached without 3 successful in a row/,
    ],
    ["terminal Failed stays", {}, { phase: "Failed", message: "x" }, "Failed", /^x$/],
    ["terminal Successful stays even with counters past a limit", {}, { phase: "Successful", failed: 9 }, "Successful"],
  ])("%s", (_name, over, result, phase, message) => {
    const assessed = metricPhase(metric(over), counters(result));
    expect(assessed.phase).toBe(phase);
    if (message) expect(assessed.message).toMatch(message);
    else if (phase === "Running" || phase === "Pending") expect(assessed.message).toBeUndefined();
  });

  it.each<[string, Partial<MetricResult>, AnalysisPhase]>([
    ["a metric not measured yet ends Successful", { phase: "Pending" }, "Successful"],
    ["a running metric ends Successful", { count: 1, successful: 1 }, "Successful"],
    ["failures within the limit still end Successful", { count: 1, failed: 1 }, "Successful"],
    ["limits still come first", { count: 3, failed: 3 }, "Failed"],
  ])("stopping: %s", (_name, result, phase) => {
    const assessed = metricPhase(metric({ interval: "1m", failureLimit: 1 }), counters(result), "run terminated");
    expect(assessed.phase).toBe(phase);
    if (phase === "Successful") expect(assessed.message).toBe("ended early: run terminated");
  });
});

const measured = (phase: AnalysisPhase, seconds = 0): Measurement => ({
  phase,
  startedAt: iso(seconds),
  finishedAt: iso(seconds),
});

describe("applyMeasurement", () => {
  const start = counters({
    count: 3,
    successful: 1,
    failed: 1,
    inconclusive: 1,
    error: 2,
    consecutiveError: 2,
    consecutiveSuccess: 0,
  });
  it.each<[AnalysisPhase, Partial<MetricResult>]>([
    ["Successful", { count: 4, successful: 2, consecutiveError: 0, consecutiveSuccess: 1 }],
    ["Failed", { count: 4, failed: 2, consecutiveError: 0, consecutiveSuccess: 0 }],
    ["Inconclusive", { count: 4, inconclusive: 2, consecutiveError: 0, consecutiveSuccess: 0 }],
    ["Error", { count: 3, error: 3, consecutiveError: 3, consecutiveSuccess: 0 }],
  ])("counts a %s measurement", (phase, expected) => {
    const next = applyMeasurement(start, measured(phase));
    expect(next).toMatchObject(expected);
    expect(next.measurements).toEqual([measured(phase)]);
    expect(start.measurements).toBeUndefined();
  });

  it("counts a success streak and breaks it", () => {
    let r = counters({});
    for (const phase of ["Successful", "Successful", "Error", "Successful"] as const) r = applyMeasurement(r, measured(phase));
    expect(r).toMatchObject({ count: 3, successful: 3, error: 1, consecutiveSuccess: 1, consecutiveError: 0 });
  });

  it.each([
    [1, 5, [4]],
    [3, 5, [2, 3, 4]],
    [10, 5, [0, 1, 2, 3, 4]],
    [undefined, 12, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
  ])("keeps the last %s measurements of %s", (retention, taken, kept) => {
    let r = counters({});
    for (let i = 0; i < taken; i++) r = applyMeasurement(r, measured("Successful", i), retention);
    expect(r.measurements?.map((m) => m.startedAt)).toEqual(kept.map(iso));
    expect(r.count).toBe(taken);
  });

  it("refuses a measurement that has not finished", () => {
    expect(() => applyMeasurement(counters({}), measured("Running"))).toThrow(
      /metric "m": cannot count a measurement still Running/,
    );
  });
});

describe("runPhase", () => {
  const r = (name: string, phase: AnalysisPhase, message?: string): MetricResult => ({
    name,
    phase,
    ...(message ? { message } : {}),
  });
  it.each<[string, MetricResult[], string[], boolean, AnalysisPhase, string | undefined]>([
    ["all successful", [r("a", "Successful"), r("b", "Successful")], [], false, "Successful", undefined],
    ["one still running", [r("a", "Successful"), r("b", "Running")], [], false, "Running", undefined],
    ["one pending", [r("a", "Pending")], [], false, "Running", undefined],
    [
      "failed ends the run at once",
      [r("a", "Failed", "2 failed > failureLimit 1"), r("b", "Running")],
      [],
      false,
      "Failed",
      'metric "a" Failed: 2 failed > failureLimit 1',
    ],
    ["Failed beats Error", [r("a", "Error"), r("b", "Failed")], [], false, "Failed", 'metric "a" Error; metric "b" Failed'],
    ["Error beats Inconclusive", [r("a", "Inconclusive"), r("b", "Error")], [], false, "Error", undefined],
    ["Inconclusive beats Successful", [r("a", "Successful"), r("b", "Inconclusive")], [], false, "Inconclusive", undefined],
    [
      "dryRun failure never decides",
      [r("a", "Successful"), r("b", "Failed", "x")],
      ["b"],
      false,
      "Successful",
      'dry-run metric "b" Failed: x',
    ],
    [
      "dryRun failure does not end the run",
      [r("a", "Running"), r("b", "Failed")],
      ["b"],
      false,
      "Running",
      'dry-run metric "b" Failed',
    ],
    [
      "a running dryRun metric keeps the run going",
      [r("a", "Successful"), r("b", "Running")],
      ["b"],
      false,
      "Running",
      undefined,
    ],
    ["all dryRun and failed", [r("a", "Failed"), r("b", "Error")], ["a", "b"], false, "Successful", undefined],
    ["terminated ends a running run Successful", [r("a", "Running"), r("b", "Pending")], [], true, "Successful", "terminated"],
    ["terminated keeps a failure", [r("a", "Running"), r("b", "Failed")], [], true, "Failed", 'terminated; metric "b" Failed'],
  ])("%s", (_name, results, dry, terminated, phase, message) => {
    const assessed = runPhase(results, new Set(dry), terminated);
    expect(assessed.phase).toBe(phase);
    if (message !== undefined) expect(assessed.message).toBe(message);
  });
});

describe("nextMeasurementAt", () => {
  const last = (phase: AnalysisPhase, seconds: number) => counters({ measurements: [measured(phase, seconds)] });
  it.each<[string, MetricInput, MetricResult | undefined, number | undefined]>([
    ["first measurement: at the start", {}, undefined, 0],
    ["first measurement after initialDelay", { initialDelay: "30s" }, undefined, 30],
    ["initialDelay in seconds", { initialDelay: 45 }, counters({ phase: "Pending" }), 45],
    ["after a measurement: interval", { interval: "1m" }, last("Successful", 100), 160],
    ["after a failure: interval", { interval: "1m", failureLimit: 3 }, last("Failed", 100), 160],
    ["after an error: 10s at most", { interval: "1m" }, last("Error", 100), 110],
    ["after an error: a shorter interval", { interval: "5s" }, last("Error", 100), 105],
    ["no interval: 10s", { count: 3 }, last("Successful", 100), 110],
    ["no interval, after an error: 10s", {}, last("Error", 100), 110],
    ["interval 0s is 1s", { interval: "0s" }, last("Successful", 100), 101],
    [
      "ended metric: never",
      { interval: "1m" },
      counters({ phase: "Successful", measurements: [measured("Successful", 5)] }),
      undefined,
    ],
  ])("%s", (_name, over, result, seconds) => {
    expect(nextMeasurementAt(metric(over), result, T0)).toEqual(seconds === undefined ? undefined : at(seconds));
  });
});

describe("a condition that does not compile", () => {
  const spec = runSpec([{ name: "a" }, { name: "b", failureCondition: "result >" }]);

  it("is named with its metric and field, and nothing is measured", () => {
    expect(conditionProblem(spec)).toMatch(/^metric "b": failureCondition: BAD_CONDITION: condition "result >" does not compile/);
    expect(dueMetrics(spec, undefined, at(0))).toEqual([]);
  });

  it("ends the run in Error at once", () => {
    const step = advanceRun(spec, undefined, at(0), {});
    expect(step).toEqual({ status: { phase: "Error", message: conditionProblem(spec), startedAt: iso(0) } });
  });

  it.each([[{}], [{ successCondition: undefined }]])("a run whose conditions compile has no problem (%j)", (over) => {
    expect(conditionProblem(runSpec([over]))).toBeUndefined();
  });
});

describe("effectiveCount, dryRunNames, retentionFor", () => {
  it.each<[MetricInput, number | undefined]>([
    [{}, 1],
    [{ count: 0 }, 1],
    [{ count: 5 }, 5],
    [{ interval: "1m" }, undefined],
    [{ interval: "1m", count: 0 }, undefined],
    [{ interval: "1m", count: 3 }, 3],
  ])("count of %j is %s", (over, count) => {
    expect(effectiveCount(metric(over))).toBe(count);
  });

  it.each<[Record<string, unknown>, string[], Record<string, number>]>([
    [{}, [], { a: 10, b: 10 }],
    [{ dryRun: [{ metricName: "b" }, { metricName: "zzz" }] }, ["b"], {}],
    [{ dryRun: [{ metricName: "*" }] }, ["a", "b"], {}],
    [{ metrics: [rawMetric({ name: "a", dryRun: true }), rawMetric({ name: "b" })] }, ["a"], {}],
    [
      { metrics: [rawMetric({ name: "a", dryRun: true }), rawMetric({ name: "b" })], dryRun: [{ metricName: "b" }] },
      ["a", "b"],
      {},
    ],
    [{ measurementRetention: [{ metricName: "a", limit: 3 }] }, [], { a: 3, b: 10 }],
    [
      {
        measurementRetention: [
          { metricName: "a", limit: 3 },
          { metricName: "*", limit: 20 },
        ],
      },
      [],
      { a: 20, b: 20 },
    ],
    [
      {
        measurementRetention: [
          { metricName: "*", limit: 2 },
          { metricName: "a", limit: 4 },
        ],
      },
      [],
      { a: 4, b: 2 },
    ],
  ])("%j", (extra, dry, retention) => {
    const spec = runSpec([{ name: "a" }, { name: "b" }], extra);
    expect([...dryRunNames(spec)]).toEqual(dry);
    for (const [name, limit] of Object.entries(retention)) expect(retentionFor(spec, name)).toBe(limit);
  });
});

describe("dueMetrics and advanceRun", () => {
  const result = (status: AnalysisRunStatus, name: string) => status.metricResults?.find((m) => m.name === name);

  it("starts the run, waits for initialDelay, then measures once and succeeds", () => {
    const spec = runSpec([{ name: "a", initialDelay: "30s" }]);
    expect(dueMetrics(spec, undefined, at(0))).toEqual([]);
    const first = advanceRun(spec, undefined, at(0), {});
    expect(first).toEqual({
      status: { phase: "Running", startedAt: iso(0), metricResults: [{ name: "a", phase: "Pending" }] },
      requeueAfterMs: 30_000,
    });
    expect(dueMetrics(spec, first.status, at(29))).toEqual([]);
    expect(dueMetrics(spec, first.status, at(30)).map((m) => m.name)).toEqual(["a"]);
    const second = advanceRun(spec, first.status, at(30), { a: ok(0.01) });
    expect(second.requeueAfterMs).toBeUndefined();
    expect(second.status).toMatchObject({
      phase: "Successful",
      startedAt: iso(0),
      metricResults: [{ name: "a", phase: "Successful", count: 1, successful: 1, message: "count 1 reached" }],
    });
    expect(dueMetrics(spec, second.status, at(1000))).toEqual([]);
  });

  it("measures on the interval until the count, tolerating failures within the limit", () => {
    const spec = runSpec([{ name: "a", interval: "1m", count: 3, failureLimit: 1 }]);
    let status: AnalysisRunStatus | undefined;
    const steps: [number, ProviderOutcome, AnalysisPhase, number | undefined][] = [
      [0, ok(0.01), "Running", 60_000],
      [60, ok(0.9), "Running", 60_000],
      [120, ok(0.01), "Successful", undefined],
    ];
    for (const [seconds, outcome, phase, requeue] of steps) {
      expect(dueMetrics(spec, status, at(seconds)).map((m) => m.name)).toEqual(["a"]);
      const step = advanceRun(spec, status, at(seconds), { a: outcome });
      expect(step.status.phase).toBe(phase);
      expect(step.requeueAfterMs).toBe(requeue);
      status = step.status;
    }
    expect(result(status!, "a")).toMatchObject({ count: 3, successful: 2, failed: 1 });
  });

  it("retries errors after 10s and gives up past consecutiveErrorLimit", () => {
    const spec = runSpec([{ name: "a", interval: "5m", consecutiveErrorLimit: 1 }]);
    const first = advanceRun(spec, undefined, at(0), { a: fail() });
    expect(first.status.phase).toBe("Running");
    expect(first.requeueAfterMs).toBe(10_000);
    expect(dueMetrics(spec, first.status, at(9))).toEqual([]);
    const second = advanceRun(spec, first.status, at(10), { a: fail() });
    expect(second.status.phase).toBe("Error");
    expect(second.status.message).toBe(
      'metric "a" Error: 2 errors in a row > consecutiveErrorLimit 1; last: PROMETHEUS_UNREACHABLE: connection refused',
    );
  });

  it("a failed metric ends the run and the other metrics where they are", () => {
    const spec = runSpec([
      { name: "a", interval: "1m" },
      { name: "b", interval: "1m" },
      { name: "c", initialDelay: "10m" },
    ]);
    const first = advanceRun(spec, undefined, at(0), { a: ok(0.01), b: ok(0.01) });
    expect(first.status.phase).toBe("Running");
    const second = advanceRun(spec, first.status, at(60), { a: ok(0.01), b: ok(0.5) });
    expect(second.requeueAfterMs).toBeUndefined();
    expect(second.status.phase).toBe("Failed");
    expect(second.status.message).toBe('metric "b" Failed: 1 failed > failureLimit 0');
    expect(second.status.metricResults?.map((m) => [m.name, m.phase, m.message])).toEqual([
      ["a", "Successful", 'ended early: metric "b" Failed'],
      ["b", "Failed", "1 failed > failureLimit 0"],
      ["c", "Successful", 'ended early: metric "b" Failed'],
    ]);
  });

  it.each<[string, MetricInput, Record<string, unknown>]>([
    ["named by the spec-level dryRun list", {}, { dryRun: [{ metricName: "b" }] }],
    ["with its own dryRun: true", { dryRun: true }, {}],
  ])("a failed dryRun metric %s is reported but decides nothing", (_how, bOver, extra) => {
    const spec = runSpec(
      [
        { name: "a", interval: "1m", count: 2 },
        { name: "b", interval: "1m", count: 2, ...bOver },
      ],
      extra,
    );
    const first = advanceRun(spec, undefined, at(0), { a: ok(0.01), b: ok(0.5) });
    expect(first.status.phase).toBe("Running");
    expect(result(first.status, "b")).toMatchObject({ phase: "Failed", dryRun: true });
    expect(dueMetrics(spec, first.status, at(60)).map((m) => m.name)).toEqual(["a"]);
    const second = advanceRun(spec, first.status, at(60), { a: ok(0.01) });
    expect(second.status.phase).toBe("Successful");
    expect(second.status.message).toBe('dry-run metric "b" Failed: 1 failed > failureLimit 0');
  });

  it("terminate stops measuring and ends the run Successful", () => {
    const spec = runSpec([
      { name: "a", interval: "1m", failureLimit: 2 },
      { name: "b", initialDelay: "1h" },
    ]);
    const first = advanceRun(spec, undefined, at(0), { a: ok(0.5) });
    expect(first.status.phase).toBe("Running");
    const terminated = { ...spec, terminate: true };
    expect(dueMetrics(terminated, first.status, at(60))).toEqual([]);
    const second = advanceRun(terminated, first.status, at(60), {});
    expect(second).toMatchObject({ status: { phase: "Successful", message: "terminated" } });
    expect(second.requeueAfterMs).toBeUndefined();
    expect(second.status.metricResults?.map((m) => [m.name, m.phase, m.message])).toEqual([
      ["a", "Successful", "ended early: run terminated"],
      ["b", "Successful", "ended early: run terminated"],
    ]);
  });

  it("terminate does not undo a failure", () => {
    const spec = runSpec([{ name: "a", interval: "1m" }]);
    const failed = advanceRun(spec, undefined, at(0), { a: ok(0.5) }).status;
    expect(failed.phase).toBe("Failed");
    expect(advanceRun({ ...spec, terminate: true }, failed, at(60), {}).status).toBe(failed);
  });

  it("an ended run is returned as it is; an ended metric ignores outcomes", () => {
    const spec = runSpec([{ name: "a" }, { name: "b", interval: "1m", count: 2 }]);
    const first = advanceRun(spec, undefined, at(0), { a: ok(0.01), b: ok(0.01) });
    const second = advanceRun(spec, first.status, at(60), { a: ok(0.9), b: ok(0.01) });
    expect(result(second.status, "a")).toEqual(result(first.status, "a"));
    expect(second.status.phase).toBe("Successful");
    expect(advanceRun(spec, second.status, at(120), { a: ok(0.9) }).status).toBe(second.status);
  });

  it("wakes up for the earliest metric", () => {
    const spec = runSpec([
      { name: "a", interval: "1m" },
      { name: "b", interval: "20s" },
      { name: "c", initialDelay: "45s" },
    ]);
    expect(advanceRun(spec, undefined, at(0), { a: ok(0.01), b: ok(0.01) }).requeueAfterMs).toBe(20_000);
  });

  it("keeps the retention the spec asks for", () => {
    const spec = runSpec([{ name: "a", interval: "1m" }], { measurementRetention: [{ metricName: "a", limit: 2 }] });
    let status: AnalysisRunStatus | undefined;
    for (let i = 0; i < 5; i++) status = advanceRun(spec, status, at(i * 60), { a: ok(0.01) }).status;
    expect(result(status!, "a")?.measurements?.map((m) => m.finishedAt)).toEqual([iso(180), iso(240)]);
    expect(result(status!, "a")?.count).toBe(5);
  });

  it("refuses an outcome for a metric the run does not have", () => {
    expect(() => advanceRun(runSpec([{ name: "a" }]), undefined, at(0), { nope: ok(1) })).toThrow(
      'an outcome names metric "nope", which the run does not have',
    );
  });
});
