// The `judge` provider: the canary compared with the baseline, statistically. Either two range
// queries of a latency-like series over the window (Mann-Whitney U on their points, effect = the
// relative change of the medians), or four instant count queries (errors and requests of each;
// Fisher's exact test or the z-test on the error proportions, effect = the relative change of the
// error rates). Failed when the canary is worse beyond the tolerance with the confidence asked,
// Successful otherwise; too little data is no data. Its value is the effect.
import type { Metric } from "../../../api/analysis.ts";
import type { MeasureContext, MeasuredValue, MetricProvider, ProviderOutcome } from "../../types.ts";
import type { PrometheusClient, QueryOptions } from "../prometheus/client.ts";
import { clientFor, countOf, failure, figure, MeasureError, seconds, substituted, valuesOf } from "../prometheus/measure.ts";
import { BadCountsError, type Judgement, type JudgeRule, judgeCounts, judgeSamples, toleranceOf } from "./decision.ts";

type JudgeSpec = NonNullable<Metric["provider"]["judge"]>;

const DEFAULT_STEP = "15s";

interface Judging {
  spec: JudgeSpec;
  client: PrometheusClient;
  ctx: MeasureContext;
  rule: JudgeRule;
  opts: QueryOptions;
  metadata: Record<string, string>;
}

const listOf = (value: MeasuredValue | undefined): number[] =>
  value === undefined ? [] : typeof value === "number" ? [value] : value;

/** The outcome of a judgement: its figures join the metadata; no data keeps the reason. */
function outcomeOf(j: Judging, judgement: Judgement): ProviderOutcome {
  if (judgement.verdict === undefined)
    return { ok: true, value: undefined, metadata: { ...j.metadata, reason: judgement.reason } };
  const figures = Object.fromEntries(
    Object.entries(judgement.figures).map(([k, v]) => [k, typeof v === "number" ? figure(v) : v] as const),
  );
  return {
    ok: true,
    value: judgement.effect,
    verdict: judgement.verdict,
    metadata: { ...j.metadata, ...figures, p: figure(judgement.p), effect: figure(judgement.effect) },
  };
}

/** Mann-Whitney on the points of both range queries; NaN points (no traffic at that step) are dropped. */
async function compareSamples(j: Judging, canary: string, baseline: string): Promise<ProviderOutcome> {
  const end = j.ctx.now;
  const start = new Date(end.getTime() - seconds(j.spec.window) * 1000);
  const step = seconds(j.spec.step ?? DEFAULT_STEP);
  j.metadata.canaryQuery = substituted(canary, j.ctx, true, "canary");
  j.metadata.baselineQuery = substituted(baseline, j.ctx, true, "baseline");
  const points = async (query: string) =>
    listOf(valuesOf(await j.client.range(query, start, end, step, j.opts))).filter((v) => !Number.isNaN(v));
  const [x, y] = await Promise.all([points(j.metadata.canaryQuery), points(j.metadata.baselineQuery)]);
  j.metadata.n_canary = String(x.length);
  j.metadata.n_baseline = String(y.length);
  return outcomeOf(j, judgeSamples(j.rule, x, y));
}

/** The error proportions of both versions; each query's series are summed, no series is 0. */
async function compareCounts(j: Judging, queries: NonNullable<JudgeSpec["counts"]>): Promise<ProviderOutcome> {
  const count = async (name: keyof typeof queries) => {
    const query = substituted(queries[name], j.ctx, true, `counts.${name}`);
    j.metadata[`${name}Query`] = query;
    return countOf(await j.client.instant(query, j.ctx.now, j.opts), `counts.${name}`);
  };
  const [canaryErrors, canaryTotal, baselineErrors, baselineTotal] = await Promise.all([
    count("canaryErrors"),
    count("canaryTotal"),
    count("baselineErrors"),
    count("baselineTotal"),
  ]);
  Object.assign(j.metadata, {
    canaryErrors: figure(canaryErrors),
    n_canary: figure(canaryTotal),
    baselineErrors: figure(baselineErrors),
    n_baseline: figure(baselineTotal),
  });
  try {
    return outcomeOf(j, judgeCounts(j.rule, j.spec.minRequests, { canaryErrors, canaryTotal, baselineErrors, baselineTotal }));
  } catch (err) {
    if (err instanceof BadCountsError) throw new MeasureError("JUDGE_BAD_COUNTS", err.message);
    throw err;
  }
}

export const judgeProvider: MetricProvider = {
  name: "judge",
  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome> {
    const metadata: Record<string, string> = {};
    try {
      const spec = metric.provider.judge;
      if (!spec) throw new MeasureError("PROVIDER_MISMATCH", `metric ${metric.name} has no judge provider`);
      const client = clientFor(spec.prometheus?.address, ctx);
      const rule: JudgeRule = { direction: spec.direction, tolerance: toleranceOf(spec.tolerance), confidence: spec.confidence };
      Object.assign(metadata, {
        address: client.display,
        direction: rule.direction,
        tolerance: figure(rule.tolerance),
        confidence: figure(rule.confidence),
      });
      const j: Judging = { spec, client, ctx, rule, opts: ctx.signal ? { signal: ctx.signal } : {}, metadata };
      if (spec.counts) return await compareCounts(j, spec.counts);
      if (spec.canary && spec.baseline) return await compareSamples(j, spec.canary, spec.baseline);
      throw new MeasureError("JUDGE_BAD_SPEC", `metric ${metric.name}: set canary and baseline queries, or counts`);
    } catch (err) {
      return failure(err, metadata);
    }
  },
};
