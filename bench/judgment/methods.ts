// The ways of writing a canary check that the study compares, each as the AnalysisRun a tenant would
// write (parsed by the real schema), with what each metric's provider would get from Prometheus for a
// simulated canary, judged by the providers' own pure code. Every template measures every minute
// from the canary's first minute, five times.

import { burnRateDecision, canaryPairs, type WindowPair } from "../../src/analysis/providers/burnRate/maths.ts";
import {
  type Judgement,
  type JudgeRule,
  judgeCounts,
  judgeSamples,
  toleranceOf,
} from "../../src/analysis/providers/judge/decision.ts";
import { sloLimits } from "../../src/analysis/providers/slo/provider.ts";
import { errorRateQuery, latencyQuery, promqlDuration, type SloTarget } from "../../src/analysis/providers/slo/queries.ts";
import { judgeSlo } from "../../src/analysis/providers/slo/verdict.ts";
import type { ProviderOutcome } from "../../src/analysis/types.ts";
import { type AnalysisRunSpec, analysisRunSpec, type Metric } from "../../src/api/analysis.ts";
import { durationMs } from "../../src/api/duration.ts";
import { BUCKETS, type Traffic } from "./canary.ts";
import { histogramQuantile, increase, rate, type Sampled, sumOf } from "./promql.ts";

export const NAMESPACE = "shop";
export const SERVICE = "checkout";
export const CANARY_HASH = "canary";
export const STABLE_HASH = "stable";

/** Both versions' series, as Prometheus holds them. */
export interface World {
  canary: Traffic;
  baseline: Traffic;
}

const target = (hash: string): SloTarget => ({ source: "http", service: SERVICE, namespace: NAMESPACE, podTemplateHash: hash });
const selector = (hash: string, errors = false) =>
  `{namespace="${NAMESPACE}",service="${SERVICE}",pod_template_hash="${hash}"${errors ? ',code=~"5.."' : ""}}`;
const countQuery = (hash: string, errors: boolean, window: string) =>
  `sum(increase(http_requests_total${selector(hash, errors)}[${window}]))`;

const series = (t: Traffic, values: number[]): Sampled => ({ times: t.times, values });

/** What the queries of slo/queries.ts give over one version's series (each series extrapolated on its own, as Prometheus does). */
export const query = {
  /** sum(increase(http_requests_total[w])): no series is 0 (countOf). */
  requests: (t: Traffic, at: number, w: number) =>
    sumOf([increase(series(t, t.ok), at, w), increase(series(t, t.errors), at, w)]) ?? 0,
  errors: (t: Traffic, at: number, w: number) => increase(series(t, t.errors), at, w) ?? 0,
  /** errorRateQuery: (errors or vector(0)) / total; undefined for an empty result. */
  errorRate: (t: Traffic, at: number, w: number): number | undefined => {
    const total = sumOf([rate(series(t, t.ok), at, w), rate(series(t, t.errors), at, w)]);
    return total === undefined ? undefined : (rate(series(t, t.errors), at, w) ?? 0) / total;
  },
  /** latencyQuery: histogram_quantile over the buckets' rates; undefined for an empty result. */
  latency: (t: Traffic, q: number, at: number, w: number): number | undefined => {
    const rates = t.buckets.map((b) => rate(series(t, b), at, w));
    if (rates.some((r) => r === undefined)) return undefined;
    return histogramQuantile(q, BUCKETS, rates as number[]);
  },
};

/** A measurement of one metric at `at` seconds after the canary started. */
export type Measure = (world: World, at: number) => ProviderOutcome;

export interface Method {
  name: string;
  /** Bad kinds it does not look at (a burn rate reads errors only). */
  blind: ReadonlySet<BadKind>;
  spec: AnalysisRunSpec;
  measure: Record<string, Measure>;
}

export type BadKind = "errors" | "latency";

/** Where the check is sized: the healthy version's figures the thresholds are set from. */
export interface Baseline {
  errorRate: number;
  p99Seconds: number;
}

const SCHEDULE = { interval: "1m", initialDelay: "1m", count: 5 };
const seconds = (d: string | number) => durationMs(d) / 1000;
const value = (v: number | undefined): ProviderOutcome => ({ ok: true, value: v });
const noData = (): ProviderOutcome => ({ ok: true, value: undefined });
const fromJudgement = (j: Judgement): ProviderOutcome =>
  j.verdict === undefined ? noData() : { ok: true, value: j.effect, verdict: j.verdict };

/** A threshold between good (1x) and bad (`bad`x) figures: their geometric middle. */
const between = (good: number, bad: number) => good * Math.sqrt(bad);
const threeDigits = (n: number) => Number(n.toPrecision(3));

function prometheusMetric(name: string, q: string, successCondition: string, extra: Record<string, unknown> = {}) {
  return { name, ...SCHEDULE, failureLimit: 1, successCondition, provider: { prometheus: { query: q } }, ...extra };
}

/** Plain PromQL with conditions at the middle between good and bad; the rates over `window`. */
function thresholds(b: Baseline, window: string): Method {
  const maxErrors = threeDigits(between(b.errorRate, 2));
  const maxP99 = threeDigits(between(b.p99Seconds, 1.25));
  const w = seconds(window);
  const spec = analysisRunSpec.parse({
    metrics: [
      prometheusMetric("error-rate", errorRateQuery(target(CANARY_HASH), w * 1000), `result <= ${maxErrors}`),
      prometheusMetric("p99", latencyQuery(target(CANARY_HASH), w * 1000, 0.99), `result <= ${maxP99}`),
    ],
  });
  return {
    name: `threshold, ${window} window`,
    blind: new Set(),
    spec,
    measure: {
      "error-rate": (world, at) => value(query.errorRate(world.canary, at, w)),
      p99: (world, at) => value(query.latency(world.canary, 0.99, at, w)),
    },
  };
}

/** The slo shorthand with the same limits as the thresholds. */
function slo(b: Baseline, window: string): Method {
  const spec = analysisRunSpec.parse({
    metrics: [
      {
        name: "slo",
        ...SCHEDULE,
        failureLimit: 1,
        provider: {
          slo: {
            source: "http",
            service: SERVICE,
            namespace: NAMESPACE,
            podTemplateHash: CANARY_HASH,
            window,
            errorRate: { max: threeDigits(between(b.errorRate, 2)) },
            latency: { quantile: 0.99, max: `${Math.round(between(b.p99Seconds, 1.25) * 1000)}ms` },
          },
        },
      },
    ],
  });
  const sloSpec = (spec.metrics[0] as Metric).provider.slo as NonNullable<Metric["provider"]["slo"]>;
  const limits = sloLimits(sloSpec);
  const w = seconds(sloSpec.window ?? "1m");
  return {
    name: `slo, ${window} window`,
    blind: new Set(),
    spec,
    measure: {
      slo: (world, at) => {
        const reading = {
          requests: query.requests(world.canary, at, w),
          errorRate: nanIsNothing(query.errorRate(world.canary, at, w)),
          latencySeconds: nanIsNothing(query.latency(world.canary, 0.99, at, w)),
        };
        const judged = judgeSlo(limits, reading, promqlDuration(w * 1000));
        return judged.verdict === undefined ? noData() : { ok: true, value: judged.value, verdict: judged.verdict };
      },
    },
  };
}

const nanIsNothing = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? undefined : v);

export interface JudgeSettings {
  name: string;
  confidence: number;
  failureLimit: number;
  /** The counts metric's tolerance (default 10%). */
  countsTolerance?: string;
  /** The latency metric's tolerance (default 10%). */
  latencyTolerance?: string;
  /** The latency metric's range step (default 15s). */
  step?: string;
}

/** The judge's defaults, as examples/analysis-templates.yaml writes it (confidence 0.95, tolerance
 * 10%, failureLimit 0). */
const JUDGE_DEFAULTS: JudgeSettings = { name: "judge, defaults", confidence: 0.95, failureLimit: 0 };

function judge(settings: JudgeSettings): Method {
  const window = "5m";
  const p99 = (hash: string) => latencyQuery(target(hash), 60_000, 0.99);
  const common = { ...SCHEDULE, failureLimit: settings.failureLimit };
  const spec = analysisRunSpec.parse({
    metrics: [
      {
        name: "errors-vs-stable",
        ...common,
        provider: {
          judge: {
            counts: {
              canaryErrors: countQuery(CANARY_HASH, true, window),
              canaryTotal: countQuery(CANARY_HASH, false, window),
              baselineErrors: countQuery(STABLE_HASH, true, window),
              baselineTotal: countQuery(STABLE_HASH, false, window),
            },
            window,
            direction: "increase",
            confidence: settings.confidence,
            ...(settings.countsTolerance ? { tolerance: settings.countsTolerance } : {}),
          },
        },
      },
      {
        name: "p99-vs-stable",
        ...common,
        // At a 15s step the first minute holds four points of a 1m rate, fewer than the judge's
        // five: no data once.
        inconclusiveLimit: 1,
        provider: {
          judge: {
            canary: p99(CANARY_HASH),
            baseline: p99(STABLE_HASH),
            window,
            step: settings.step ?? "15s",
            direction: "increase",
            confidence: settings.confidence,
            ...(settings.latencyTolerance ? { tolerance: settings.latencyTolerance } : {}),
          },
        },
      },
    ],
  });
  const [counts, samples] = spec.metrics.map((m) => m.provider.judge as NonNullable<Metric["provider"]["judge"]>) as [
    NonNullable<Metric["provider"]["judge"]>,
    NonNullable<Metric["provider"]["judge"]>,
  ];
  const ruleOf = (j: NonNullable<Metric["provider"]["judge"]>): JudgeRule => ({
    direction: j.direction,
    tolerance: toleranceOf(j.tolerance),
    confidence: j.confidence,
  });
  const countsWindow = seconds(counts.window);
  const range = seconds(samples.window);
  const step = seconds(samples.step ?? "15s");
  const points = (t: Traffic, at: number) => {
    const values: number[] = [];
    for (let τ = at - range; τ <= at; τ += step) {
      const v = query.latency(t, 0.99, τ, 60);
      if (v !== undefined && !Number.isNaN(v)) values.push(v);
    }
    return values;
  };
  return {
    name: settings.name,
    blind: new Set(),
    spec,
    measure: {
      "errors-vs-stable": (w, at) =>
        fromJudgement(
          judgeCounts(ruleOf(counts), counts.minRequests, {
            canaryErrors: query.errors(w.canary, at, countsWindow),
            canaryTotal: query.requests(w.canary, at, countsWindow),
            baselineErrors: query.errors(w.baseline, at, countsWindow),
            baselineTotal: query.requests(w.baseline, at, countsWindow),
          }),
        ),
      "p99-vs-stable": (w, at) => fromJudgement(judgeSamples(ruleOf(samples), points(w.canary, at), points(w.baseline, at))),
    },
  };
}

export interface BurnSettings {
  name: string;
  /** The SLO objective, from the healthy error rate. */
  objective: (b: Baseline) => number;
  /** Window pairs to write in the template; the provider's default (canaryPairs) when absent. */
  windows?: { long: string; short: string; factor: number }[];
}

/** The burnRate provider's defaults (the SRE workbook's pairs scaled to a canary, canaryPairs), with
 * an objective the healthy version meets using half its budget. */
const BURN_WORKBOOK: BurnSettings = {
  name: "burn rate (workbook 14.4x/6x)",
  objective: (b) => 1 - 2 * b.errorRate,
};

/** canaryPairs' windows, firing at the middle between the healthy and twice the healthy error rate. */
const BURN_SIZED: BurnSettings = {
  name: "burn rate (sized: 1.41x of 1 - healthy)",
  objective: (b) => 1 - b.errorRate,
  windows: canaryPairs(durationMs(SCHEDULE.interval)).map((p) => ({
    long: promqlDuration(p.longMs),
    short: promqlDuration(p.shortMs),
    factor: 1.41,
  })),
};

/** The burnRate provider over the canary's http traffic. Its measurement, as provider.ts takes it:
 * each window's error ratio from increase() counts (no data below minRequests), the pairs judged
 * by burnRateDecision, firing is Failed; the value is the burn rates, long then short of each pair. */
function burnRate(settings: BurnSettings, b: Baseline): Method {
  const spec = analysisRunSpec.parse({
    metrics: [
      {
        name: "burn-rate",
        ...SCHEDULE,
        provider: {
          burnRate: {
            objective: Number(settings.objective(b).toPrecision(6)),
            traffic: { source: "http", service: SERVICE, namespace: NAMESPACE, podTemplateHash: CANARY_HASH },
            ...(settings.windows ? { windows: settings.windows } : {}),
          },
        },
      },
    ],
  });
  const metric = spec.metrics[0] as Metric;
  const burn = metric.provider.burnRate as NonNullable<Metric["provider"]["burnRate"]>;
  const pairs: WindowPair[] = burn.windows
    ? burn.windows.map((p) => ({ longMs: durationMs(p.long), shortMs: durationMs(p.short), factor: p.factor }))
    : canaryPairs(durationMs(metric.interval ?? "1m"));
  const ratio = (t: Traffic, at: number, windowMs: number) => {
    const total = query.requests(t, at, windowMs / 1000);
    if (!(total >= burn.minRequests) || !(total > 0)) return undefined;
    return Math.min(1, Math.max(0, query.errors(t, at, windowMs / 1000) / total));
  };
  return {
    name: settings.name,
    blind: new Set(["latency"]),
    spec,
    measure: {
      "burn-rate": (w, at) => {
        const ratios = pairs.map((p) => ({ long: ratio(w.canary, at, p.longMs), short: ratio(w.canary, at, p.shortMs) }));
        const decision = burnRateDecision(burn.objective, pairs, ratios);
        if (decision.noData) return noData();
        return {
          ok: true,
          value: decision.pairs.flatMap((p) => [p.longBurnRate ?? Number.NaN, p.shortBurnRate ?? Number.NaN]),
          verdict: decision.firing ? "Failed" : "Successful",
        };
      },
    },
  };
}

/** What the study proposes for the judge (docs/analysis.md, "How to choose and size your checks"):
 * a stricter confidence, since five looks at 0.95 roll back about one good canary in six; a counts
 * tolerance of 50%, since each version's own minute-to-minute wobble makes error rates differ by more
 * than 10% with nothing wrong; 15% for latency; and a 10s step, so the first minute has the five
 * points the judge needs. */
const JUDGE_TUNED: JudgeSettings = {
  name: "judge, tuned",
  confidence: 0.999,
  failureLimit: 0,
  countsTolerance: "50%",
  latencyTolerance: "15%",
  step: "10s",
};

/** Every method of the study, sized for a service whose healthy figures are `b`. */
export function methods(b: Baseline): Method[] {
  return [
    thresholds(b, "1m"),
    thresholds(b, "5m"),
    slo(b, "1m"),
    slo(b, "5m"),
    judge(JUDGE_DEFAULTS),
    judge(JUDGE_TUNED),
    burnRate(BURN_WORKBOOK, b),
    burnRate(BURN_SIZED, b),
  ];
}
