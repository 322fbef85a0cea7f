// The `burnRate` provider: an SLO objective checked with the SRE workbook's multi-window,
// multi-burn-rate pairs (maths.ts), over the slo shorthand's traffic or a good/total pair of
// PromQL counts. It judges by itself: Failed when a pair fires, Successful when none does, no data
// when a window lacks requests. Its value is the burn rates, long then short window of each pair.
//
// With `budget` it judges the error budget left over one window instead (the errorBudget step's
// check): Failed when it is spent, and its value is the share left (1 untouched, 0 or less spent).
import type { Metric } from "../../../api/analysis.ts";
import { durationMs } from "../../../api/duration.ts";
import type { MeasureContext, MetricProvider, ProviderOutcome } from "../../types.ts";
import type { PrometheusClient, QueryOptions } from "../prometheus/client.ts";
import { clientFor, countOf, failure, figure, MeasureError, substituted } from "../prometheus/measure.ts";
import { errorsQuery, promqlDuration, requestsQuery, type SloTarget } from "../slo/queries.ts";
import { budgetRemaining, burnRateDecision, canaryPairs, type PairRatios, type WindowPair } from "./maths.ts";

type BurnRateSpec = NonNullable<Metric["provider"]["burnRate"]>;

/** A metric without an interval is measured once; its windows scale from a minute. */
const DEFAULT_INTERVAL_MS = 60_000;

/** The two counts of one window: bad and all requests, as PromQL. */
interface WindowQueries {
  bad?: string;
  good?: string;
  total: string;
}

function queriesFor(spec: BurnRateSpec, ctx: MeasureContext): (windowMs: number) => WindowQueries {
  if (spec.traffic) {
    const t = spec.traffic;
    const optional = (value: string | undefined, field: string) => (value ? substituted(value, ctx, false, field) : undefined);
    const target: SloTarget = {
      source: t.source,
      service: substituted(t.service, ctx, false, "traffic.service"),
      namespace: substituted(t.namespace, ctx, false, "traffic.namespace"),
      ingress: optional(t.ingress, "traffic.ingress"),
      podTemplateHash: optional(t.podTemplateHash, "traffic.podTemplateHash"),
    };
    return (w) => ({ bad: errorsQuery(target, w), total: requestsQuery(target, w) });
  }
  if (!spec.queries) throw new MeasureError("PROVIDER_MISMATCH", "burnRate needs traffic or queries");
  const good = substituted(spec.queries.good, ctx, true, "queries.good");
  const total = substituted(spec.queries.total, ctx, true, "queries.total");
  return (w) => ({
    good: good.replaceAll("{{window}}", promqlDuration(w)),
    total: total.replaceAll("{{window}}", promqlDuration(w)),
  });
}

/** The error ratio of one window, or undefined with fewer than minRequests requests. */
async function errorRatio(
  client: PrometheusClient,
  q: WindowQueries,
  spec: BurnRateSpec,
  ctx: MeasureContext,
  opts: QueryOptions,
): Promise<{ ratio: number | undefined; requests: number }> {
  const count = async (query: string, what: string) => countOf(await client.instant(query, ctx.now, opts), what);
  const [total, other] = await Promise.all([
    count(q.total, "the request count"),
    q.bad !== undefined ? count(q.bad, "the error count") : count(q.good as string, "the good count"),
  ]);
  if (!(total >= spec.minRequests) || !(total > 0)) return { ratio: undefined, requests: total };
  const bad = q.bad !== undefined ? other : total - other;
  // Counts from increase() are extrapolated: keep the ratio a share.
  return { ratio: Math.min(1, Math.max(0, bad / total)), requests: total };
}

export const burnRateProvider: MetricProvider = {
  name: "burnRate",
  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome> {
    const metadata: Record<string, string> = {};
    try {
      const spec = metric.provider.burnRate;
      if (!spec) throw new MeasureError("PROVIDER_MISMATCH", `metric ${metric.name} has no burnRate provider`);
      const client = clientFor(spec.prometheus?.address, ctx);
      metadata.address = client.display;
      metadata.objective = String(spec.objective);
      const queries = queriesFor(spec, ctx);
      const opts: QueryOptions = ctx.signal ? { signal: ctx.signal } : {};
      const measured = new Map<number, Promise<{ ratio: number | undefined; requests: number }>>();
      const ratioOver = (windowMs: number) => {
        let m = measured.get(windowMs);
        if (!m) {
          const q = queries(windowMs);
          const w = promqlDuration(windowMs);
          metadata[`query.total.${w}`] = q.total;
          metadata[q.bad !== undefined ? `query.errors.${w}` : `query.good.${w}`] = (q.bad ?? q.good) as string;
          m = errorRatio(client, q, spec, ctx, opts);
          measured.set(windowMs, m);
        }
        return m;
      };

      if (spec.budget) {
        const windowMs = durationMs(spec.budget.window);
        const w = promqlDuration(windowMs);
        const { ratio, requests } = await ratioOver(windowMs);
        metadata.requests = figure(requests);
        if (ratio === undefined) {
          return {
            ok: true,
            value: undefined,
            metadata: {
              ...metadata,
              reason: `${figure(requests)} requests in ${w}, fewer than minRequests (${spec.minRequests})`,
            },
          };
        }
        const remaining = budgetRemaining(ratio, spec.objective);
        metadata.errorRatio = figure(ratio);
        metadata.budgetRemaining = figure(remaining);
        const spent = remaining <= spec.budget.minRemaining;
        const left = `${figure(Math.max(0, remaining) * 100)}% of the error budget left over ${w}`;
        return {
          ok: true,
          value: remaining,
          verdict: spent ? "Failed" : "Successful",
          metadata: { ...metadata, reason: spent ? `budget spent: ${left} (error ratio ${figure(ratio)})` : left },
        };
      }

      const intervalMs = metric.interval === undefined ? DEFAULT_INTERVAL_MS : durationMs(metric.interval);
      const pairs: WindowPair[] = spec.windows
        ? spec.windows.map((p) => ({ longMs: durationMs(p.long), shortMs: durationMs(p.short), factor: p.factor }))
        : canaryPairs(intervalMs);
      const ratios: PairRatios[] = await Promise.all(
        pairs.map(async (p) => {
          const [long, short] = await Promise.all([ratioOver(p.longMs), ratioOver(p.shortMs)]);
          return { long: long.ratio, short: short.ratio };
        }),
      );
      const decision = burnRateDecision(spec.objective, pairs, ratios);
      const described = decision.pairs.map((p) => {
        const rate = (r: number | undefined) => (r === undefined ? "no data" : `${figure(r)}x`);
        return `${promqlDuration(p.longMs)}/${promqlDuration(p.shortMs)} at ${p.factor}x: ${rate(p.longBurnRate)}/${rate(p.shortBurnRate)}${p.firing ? " firing" : ""}`;
      });
      for (const [i, text] of described.entries()) metadata[`pair${i}`] = text;
      metadata.firing = String(decision.firing);
      const reason = described.join("; ");
      if (decision.noData)
        return { ok: true, value: undefined, metadata: { ...metadata, reason: `no data in a window: ${reason}` } };
      return {
        ok: true,
        value: decision.pairs.flatMap((p) => [p.longBurnRate ?? Number.NaN, p.shortBurnRate ?? Number.NaN]),
        verdict: decision.firing ? "Failed" : "Successful",
        metadata: { ...metadata, reason },
      };
    } catch (err) {
      return failure(err, metadata);
    }
  },
};
