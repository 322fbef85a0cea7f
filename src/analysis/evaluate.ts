// Pure evaluation of an AnalysisRun, after Argo Rollouts' analysis controller: a provider outcome
// becomes a measurement, counters and limits give each metric's phase, metric phases give the
// run's. The controller shell only measures what `dueMetrics` names and stores what `advanceRun` returns.
import type { AnalysisPhase, AnalysisRunSpec, AnalysisRunStatus, Metric } from "../api/analysis.ts";
import { durationMs } from "../api/duration.ts";
import { ConditionError, compileCondition, evaluateCondition } from "./conditions.ts";
import type { MeasuredValue, ProviderOutcome } from "./types.ts";

export type MetricResult = NonNullable<AnalysisRunStatus["metricResults"]>[number];
export type Measurement = NonNullable<MetricResult["measurements"]>[number];
export interface Assessment {
  phase: AnalysisPhase;
  message?: string;
}

export const DEFAULT_RETENTION = 10;
/** After an error, or between measurements of a metric without interval (Argo's DefaultErrorRetryInterval). */
export const ERROR_RETRY_MS = 10_000;
/** Floor for intervals, so `interval: 0s` with an unbounded count cannot spin the controller. */
export const MIN_INTERVAL_MS = 1_000;
/** Values kept in a measurement's text; a long range result would otherwise bloat the status. */
const MAX_VALUES_SHOWN = 100;

const TERMINAL: ReadonlySet<AnalysisPhase> = new Set(["Successful", "Failed", "Inconclusive", "Error"]);
export const isTerminal = (phase: AnalysisPhase | undefined): boolean => phase !== undefined && TERMINAL.has(phase);

/** Which phase is worse (Argo's order): the run takes its worst deciding metric's phase. */
const SEVERITY: AnalysisPhase[] = ["Pending", "Running", "Successful", "Inconclusive", "Error", "Failed"];
const worse = (a: AnalysisPhase, b: AnalysisPhase) => SEVERITY.indexOf(a) > SEVERITY.indexOf(b);

const CONDITION_FIELDS = ["failureCondition", "successCondition"] as const;

const NO_DATA_PHASE = { inconclusive: "Inconclusive", fail: "Failed", pass: "Successful" } as const;

function valueText(value: MeasuredValue): string {
  if (typeof value === "number") return String(value);
  const shown = value.slice(0, MAX_VALUES_SHOWN).map(String);
  if (value.length > MAX_VALUES_SHOWN) shown.push(`… ${value.length - MAX_VALUES_SHOWN} more`);
  return `[${shown.join(", ")}]`;
}

const isNoData = (value: MeasuredValue) =>
  typeof value === "number" ? Number.isNaN(value) : value.every((v) => Number.isNaN(v));

/** The phase the conditions give (Argo's rules); throws a ConditionError. */
function judge(metric: Metric, value: MeasuredValue): AnalysisPhase {
  const { successCondition: success, failureCondition: failure } = metric;
  if (failure !== undefined && evaluateCondition(failure, value)) return "Failed";
  if (success !== undefined) {
    if (evaluateCondition(success, value)) return "Successful";
    // With both conditions, neither holding is the grey zone between them.
    return failure !== undefined ? "Inconclusive" : "Failed";
  }
  return "Successful";
}

/** One measurement from what the provider gave at `at`. Never throws: a bad condition is an Error measurement. */
export function measurementFrom(metric: Metric, outcome: ProviderOutcome, at: Date): Measurement {
  const time = at.toISOString();
  const base = { startedAt: time, finishedAt: time, ...(outcome.metadata ? { metadata: { ...outcome.metadata } } : {}) };
  if (!outcome.ok) return { phase: "Error", message: `${outcome.code}: ${outcome.message}`, ...base };
  const { value, verdict } = outcome;
  const withValue = value === undefined ? base : { value: valueText(value), ...base };
  if (verdict) return { phase: verdict, ...withValue };
  if (value === undefined || isNoData(value)) {
    return { phase: NO_DATA_PHASE[metric.noData], message: `no data (noData: ${metric.noData})`, ...withValue };
  }
  try {
    return { phase: judge(metric, value), ...withValue };
  } catch (err) {
    if (!(err instanceof ConditionError)) throw err;
    const field = CONDITION_FIELDS.find((f) => metric[f] === err.condition);
    return { phase: "Error", message: `${err.code}: ${field}: ${err.message}`, ...withValue };
  }
}

/** Measurements the metric takes in all (Argo: 0 or unset is 1 without interval, unbounded with one). */
export function effectiveCount(metric: Metric): number | undefined {
  if (metric.count) return metric.count;
  return metric.interval === undefined ? 1 : undefined;
}

interface Counters {
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  consecutiveSuccess: number;
}

const countersOf = (r: MetricResult): Counters => ({
  count: r.count ?? 0,
  successful: r.successful ?? 0,
  failed: r.failed ?? 0,
  inconclusive: r.inconclusive ?? 0,
  error: r.error ?? 0,
  consecutiveError: r.consecutiveError ?? 0,
  consecutiveSuccess: r.consecutiveSuccess ?? 0,
});

/** `result` with `measurement` counted and appended, keeping the last `retention` measurements.
 * Errors are not counted in `count` (as in Argo): count = successful + failed + inconclusive. */
export function applyMeasurement(result: MetricResult, measurement: Measurement, retention = DEFAULT_RETENTION): MetricResult {
  const c = countersOf(result);
  switch (measurement.phase) {
    case "Successful":
      Object.assign(c, { successful: c.successful + 1, consecutiveSuccess: c.consecutiveSuccess + 1 });
      break;
    case "Failed":
      Object.assign(c, { failed: c.failed + 1, consecutiveSuccess: 0 });
      break;
    case "Inconclusive":
      Object.assign(c, { inconclusive: c.inconclusive + 1, consecutiveSuccess: 0 });
      break;
    case "Error":
      Object.assign(c, { error: c.error + 1, consecutiveError: c.consecutiveError + 1, consecutiveSuccess: 0 });
      break;
    default:
      throw new Error(`metric "${result.name}": cannot count a measurement still ${measurement.phase}`);
  }
  if (measurement.phase !== "Error") Object.assign(c, { count: c.count + 1, consecutiveError: 0 });
  const measurements = [...(result.measurements ?? []), measurement].slice(-Math.max(1, retention));
  return { ...result, ...c, measurements };
}

/** The metric's phase from its counters and limits (Argo's assessMetricStatus). A terminal phase never
 * changes. `stopping` (why the run is ending) ends a still-running metric as Successful. */
export function metricPhase(metric: Metric, result: MetricResult, stopping?: string): Assessment {
  if (isTerminal(result.phase)) return { phase: result.phase, ...(result.message ? { message: result.message } : {}) };
  const c = countersOf(result);
  if (c.failed > metric.failureLimit) {
    return { phase: "Failed", message: `${c.failed} failed > failureLimit ${metric.failureLimit}` };
  }
  if (c.inconclusive > metric.inconclusiveLimit) {
    return { phase: "Inconclusive", message: `${c.inconclusive} inconclusive > inconclusiveLimit ${metric.inconclusiveLimit}` };
  }
  if (c.consecutiveError > metric.consecutiveErrorLimit) {
    const last = result.measurements?.at(-1)?.message;
    return {
      phase: "Error",
      message: `${c.consecutiveError} errors in a row > consecutiveErrorLimit ${metric.consecutiveErrorLimit}${last ? `; last: ${last}` : ""}`,
    };
  }
  const streak = metric.consecutiveSuccessLimit;
  if (streak > 0 && c.consecutiveSuccess >= streak) {
    return { phase: "Successful", message: `${c.consecutiveSuccess} successful in a row (consecutiveSuccessLimit ${streak})` };
  }
  const count = effectiveCount(metric);
  if (count !== undefined && c.count >= count) {
    // Argo: with a streak to reach, reaching the count without it is not a success.
    if (streak > 0) {
      return { phase: "Inconclusive", message: `count ${count} reached without ${streak} successful in a row` };
    }
    return { phase: "Successful", message: `count ${count} reached` };
  }
  if (stopping !== undefined) return { phase: "Successful", message: `ended early: ${stopping}` };
  return { phase: c.count + c.error === 0 ? "Pending" : "Running" };
}

/** The run's phase (Argo's assessRunStatus): the worst phase of the deciding (non-dryRun) metrics, by
 * Failed > Error > Inconclusive > Successful. A deciding metric that is not Successful ends the run at
 * once; otherwise it ends when every metric has ended, or when `terminated`. */
export function runPhase(metricResults: MetricResult[], dryRunNames: ReadonlySet<string>, terminated: boolean): Assessment {
  let worst: AnalysisPhase = "Successful";
  const problems: string[] = [];
  const dryProblems: string[] = [];
  for (const r of metricResults) {
    if (!isTerminal(r.phase) || r.phase === "Successful") continue;
    const line = `metric "${r.name}" ${r.phase}${r.message ? `: ${r.message}` : ""}`;
    if (dryRunNames.has(r.name)) {
      dryProblems.push(line);
      continue;
    }
    problems.push(line);
    if (worse(r.phase, worst)) worst = r.phase;
  }
  const ended = worst !== "Successful" || terminated || metricResults.every((r) => isTerminal(r.phase));
  const parts = [...(terminated ? ["terminated"] : []), ...problems, ...dryProblems.map((p) => `dry-run ${p}`)];
  return { phase: ended ? worst : "Running", ...(parts.length ? { message: parts.join("; ") } : {}) };
}

/** When the metric should next be measured; undefined once it has ended. The first measurement waits
 * initialDelay from the run's start; later ones follow the last by interval (an error retries after
 * at most 10s; a metric without interval measures again after 10s). */
export function nextMeasurementAt(metric: Metric, result: MetricResult | undefined, runStartedAt: Date): Date | undefined {
  if (result && isTerminal(result.phase)) return undefined;
  const last = result?.measurements?.at(-1)?.finishedAt;
  if (last === undefined) {
    return new Date(runStartedAt.getTime() + (metric.initialDelay === undefined ? 0 : durationMs(metric.initialDelay)));
  }
  const interval = metric.interval === undefined ? undefined : Math.max(MIN_INTERVAL_MS, durationMs(metric.interval));
  const lastPhase = result?.measurements?.at(-1)?.phase;
  const wait = lastPhase === "Error" ? Math.min(ERROR_RETRY_MS, interval ?? ERROR_RETRY_MS) : (interval ?? ERROR_RETRY_MS);
  return new Date(Date.parse(last) + wait);
}

const matches = (pattern: string, name: string) => pattern === "*" || pattern === name;

/** Names of the run's dryRun metrics: those the spec-level list names (`*` stands for all) and those
 * that say `dryRun: true` themselves; the two are the same thing written in two places. */
export function dryRunNames(spec: AnalysisRunSpec): Set<string> {
  const patterns = spec.dryRun?.map((d) => d.metricName) ?? [];
  return new Set(spec.metrics.filter((m) => m.dryRun || patterns.some((p) => matches(p, m.name))).map((m) => m.name));
}

/** Measurements kept for a metric: the largest limit naming it (or `*`), else 10. */
export function retentionFor(spec: AnalysisRunSpec, metricName: string): number {
  const limits = (spec.measurementRetention ?? []).filter((r) => matches(r.metricName, metricName)).map((r) => r.limit);
  return limits.length ? Math.max(...limits) : DEFAULT_RETENTION;
}

const resultOf = (status: AnalysisRunStatus | undefined, name: string) => status?.metricResults?.find((r) => r.name === name);

/** Why the run cannot start, naming the metric and field: a condition that does not compile. */
export function conditionProblem(spec: AnalysisRunSpec): string | undefined {
  for (const metric of spec.metrics) {
    for (const field of CONDITION_FIELDS) {
      const text = metric[field];
      const compiled = text === undefined ? { ok: true as const } : compileCondition(text);
      if (!compiled.ok) return `metric "${metric.name}": ${field}: ${compiled.code}: ${compiled.message}`;
    }
  }
  return undefined;
}

/** The metrics to measure now. Call it and `advanceRun` with the same `now`. */
export function dueMetrics(spec: AnalysisRunSpec, status: AnalysisRunStatus | undefined, now: Date): Metric[] {
  if (isTerminal(status?.phase) || spec.terminate || conditionProblem(spec)) return [];
  const startedAt = status?.startedAt ? new Date(status.startedAt) : now;
  return spec.metrics.filter((metric) => {
    const at = nextMeasurementAt(metric, resultOf(status, metric.name), startedAt);
    return at !== undefined && at.getTime() <= now.getTime();
  });
}

function withAssessment(result: MetricResult, { phase, message }: Assessment): MetricResult {
  const { message: _old, ...rest } = result;
  return { ...rest, phase, ...(message ? { message } : {}) };
}

export interface RunStep {
  status: AnalysisRunStatus;
  /** When to call again (ms from `now`); absent once the run has ended. */
  requeueAfterMs?: number;
}

/** The run's next status from the fresh provider outcomes (by metric name) taken at `now`. An ended run
 * is returned as it is; outcomes for metrics that have ended are ignored. */
export function advanceRun(
  spec: AnalysisRunSpec,
  status: AnalysisRunStatus | undefined,
  now: Date,
  outcomes: Readonly<Record<string, ProviderOutcome>>,
): RunStep {
  if (status && isTerminal(status.phase)) return { status };
  const problem = conditionProblem(spec);
  if (problem)
    return { status: { ...status, phase: "Error", message: problem, startedAt: status?.startedAt ?? now.toISOString() } };
  for (const name of Object.keys(outcomes)) {
    if (!spec.metrics.some((m) => m.name === name))
      throw new Error(`an outcome names metric "${name}", which the run does not have`);
  }
  const startedAt = status?.startedAt ?? now.toISOString();
  const dryRun = dryRunNames(spec);
  const results = spec.metrics.map((metric) => {
    let result: MetricResult = resultOf(status, metric.name) ?? { name: metric.name, phase: "Pending" };
    if (dryRun.has(metric.name)) result = { ...result, dryRun: true };
    if (isTerminal(result.phase)) return result;
    const outcome = outcomes[metric.name];
    if (outcome) result = applyMeasurement(result, measurementFrom(metric, outcome, now), retentionFor(spec, metric.name));
    return withAssessment(result, metricPhase(metric, result));
  });
  // As in Argo, spec.terminate or a deciding metric that ended badly stops the others where they are.
  const stopper = results.find((r) => !dryRun.has(r.name) && isTerminal(r.phase) && r.phase !== "Successful");
  const stopping = spec.terminate ? "run terminated" : stopper && `metric "${stopper.name}" ${stopper.phase}`;
  const finalResults = stopping
    ? results.map((r, i) => (isTerminal(r.phase) ? r : withAssessment(r, metricPhase(spec.metrics[i] as Metric, r, stopping))))
    : results;
  const run = runPhase(finalResults, dryRun, spec.terminate === true);
  const { message: _old, ...rest } = status ?? {};
  const next: AnalysisRunStatus = {
    ...rest,
    phase: run.phase,
    ...(run.message ? { message: run.message } : {}),
    startedAt,
    metricResults: finalResults,
  };
  if (isTerminal(run.phase)) return { status: next };
  const start = new Date(startedAt);
  const wakes = spec.metrics
    .map((m, i) => nextMeasurementAt(m, finalResults[i], start)?.getTime())
    .filter((t): t is number => t !== undefined);
  return { status: next, requeueAfterMs: Math.max(0, Math.min(...wakes) - now.getTime()) };
}
