// The `slo` provider: error-rate and latency limits without writing PromQL. It checks the request
// count first (fewer than minRequests is no data), then judges by itself: Failed when any limit is
// broken, else Successful. Its value is the error rate, or the latency in seconds when only latency
// is limited.
import type { Metric } from "../../../api/analysis.ts";
import type { MeasureContext, MetricProvider, ProviderOutcome } from "../../types.ts";
import type { PrometheusClient, QueryOptions } from "../prometheus/client.ts";
import { clientFor, countOf, failure, figure, MeasureError, seconds, substituted, valuesOf } from "../prometheus/measure.ts";
import { errorRateQuery, latencyQuery, promqlDuration, requestsQuery, type SloTarget } from "./queries.ts";
import { judgeSlo, type SloLimits } from "./verdict.ts";

type SloSpec = NonNullable<Metric["provider"]["slo"]>;

/** The limits of an slo spec, in the units the judgement uses. */
export function sloLimits(spec: SloSpec): SloLimits {
  return {
    minRequests: spec.minRequests,
    ...(spec.errorRate ? { errorRateMax: spec.errorRate.max } : {}),
    ...(spec.latency ? { latency: { quantile: spec.latency.quantile, maxSeconds: seconds(spec.latency.max) } } : {}),
  };
}

const DEFAULT_WINDOW = "1m";

/** The one number a sum() query gives; nothing or NaN (no traffic) is undefined. */
async function single(client: PrometheusClient, query: string, now: Date, opts: QueryOptions): Promise<number | undefined> {
  const value = valuesOf(await client.instant(query, now, opts));
  return typeof value === "number" && !Number.isNaN(value) ? value : undefined;
}

export const sloProvider: MetricProvider = {
  name: "slo",
  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome> {
    const metadata: Record<string, string> = {};
    try {
      const spec = metric.provider.slo;
      if (!spec) throw new MeasureError("PROVIDER_MISMATCH", `metric ${metric.name} has no slo provider`);
      const client = clientFor(spec.prometheus?.address, ctx);
      metadata.address = client.display;
      const optional = (value: string | undefined, field: string) => (value ? substituted(value, ctx, false, field) : undefined);
      const target: SloTarget = {
        source: spec.source,
        service: substituted(spec.service, ctx, false, "service"),
        namespace: substituted(spec.namespace, ctx, false, "namespace"),
        ingress: optional(spec.ingress, "ingress"),
        podTemplateHash: optional(spec.podTemplateHash, "podTemplateHash"),
      };
      const windowMs = seconds(spec.window ?? DEFAULT_WINDOW) * 1000;
      const window = promqlDuration(windowMs);
      metadata.requestsQuery = requestsQuery(target, windowMs);
      if (spec.errorRate) metadata.errorRateQuery = errorRateQuery(target, windowMs);
      if (spec.latency) metadata.latencyQuery = latencyQuery(target, windowMs, spec.latency.quantile);

      const opts: QueryOptions = ctx.signal ? { signal: ctx.signal } : {};
      const [requests, errorRate, latency] = await Promise.all([
        client.instant(metadata.requestsQuery, ctx.now, opts).then((r) => countOf(r, "the request count")),
        metadata.errorRateQuery ? single(client, metadata.errorRateQuery, ctx.now, opts) : undefined,
        metadata.latencyQuery ? single(client, metadata.latencyQuery, ctx.now, opts) : undefined,
      ]);
      metadata.requests = figure(requests);
      if (errorRate !== undefined) metadata.errorRate = figure(errorRate);
      if (latency !== undefined) metadata.latencySeconds = figure(latency);
      const judged = judgeSlo(sloLimits(spec), { requests, errorRate, latencySeconds: latency }, window);
      if (judged.verdict === undefined) return { ok: true, value: undefined, metadata: { ...metadata, reason: judged.reason } };
      return { ok: true, value: judged.value, verdict: judged.verdict, metadata: { ...metadata, reason: judged.reason } };
    } catch (err) {
      return failure(err, metadata);
    }
  },
};
