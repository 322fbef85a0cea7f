// The `slo` provider: error-rate and latency limits without writing PromQL. It checks the request
// count first (fewer than minRequests is no data), then judges by itself: Failed when any limit is
// broken, else Successful. Its value is the error rate, or the latency in seconds when only latency
// is limited.
import type { Metric } from "../../../api/analysis.ts";
import type { MeasureContext, MetricProvider, ProviderOutcome } from "../../types.ts";
import type { PrometheusClient, QueryOptions } from "../prometheus/client.ts";
import { clientFor, countOf, failure, figure, MeasureError, seconds, substituted, valuesOf } from "../prometheus/measure.ts";
import { errorRateQuery, latencyQuery, promqlDuration, requestsQuery, type SloTarget } from "./queries.ts";

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
      const noData = (reason: string): ProviderOutcome => ({ ok: true, value: undefined, metadata: { ...metadata, reason } });
      if (!(requests >= spec.minRequests)) {
        return noData(`${figure(requests)} requests in ${window}, fewer than minRequests (${spec.minRequests})`);
      }
      const limits: { what: string; value: number | undefined; max: number; unit: string }[] = [];
      if (spec.errorRate) limits.push({ what: "error rate", value: errorRate, max: spec.errorRate.max, unit: "" });
      if (spec.latency) {
        const what = `p${figure(spec.latency.quantile * 100)} latency`;
        limits.push({ what, value: latency, max: seconds(spec.latency.max), unit: "s" });
      }
      const missing = limits.find((l) => l.value === undefined);
      if (missing) return noData(`no ${missing.what} over ${window}`);
      const broken = limits.flatMap((l) =>
        l.value !== undefined && l.value > l.max ? [`${l.what} ${figure(l.value)}${l.unit} above ${l.max}${l.unit}`] : [],
      );
      return {
        ok: true,
        value: spec.errorRate ? errorRate : latency,
        verdict: broken.length ? "Failed" : "Successful",
        metadata: { ...metadata, reason: broken.length ? broken.join("; ") : "within limits" },
      };
    } catch (err) {
      return failure(err, metadata);
    }
  },
};
