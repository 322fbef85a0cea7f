// The `prometheus` provider: one PromQL query, instant at the measurement time or over a range
// ending there. Its value is left to the metric's conditions.
//
// Values: a scalar or a single sample is a number; several samples are a list, one per series
// (ordered by labels); a range is the list of its points, and the points of several series are
// concatenated, series by series (ordered by labels; `series` in the metadata says how many); an
// empty result is no data.
import type { Metric } from "../../../api/analysis.ts";
import type { MeasureContext, MetricProvider, ProviderOutcome } from "../../types.ts";
import { DEFAULT_TIMEOUT_MS, type InstantResult, type PrometheusAuth, type QueryOptions } from "./client.ts";
import { clientFor, failure, MeasureError, readSecret, seconds, substituted, valuesOf } from "./measure.ts";

type PrometheusSpec = NonNullable<Metric["provider"]["prometheus"]>;
async function authOf(spec: PrometheusSpec, ctx: MeasureContext): Promise<PrometheusAuth | undefined> {
  const { bearerToken, basic } = spec.auth ?? {};
  if (bearerToken) return { bearerToken: await readSecret(bearerToken.secretKeyRef, ctx, "auth.bearerToken") };
  if (basic) return { username: basic.username, password: await readSecret(basic.passwordSecretRef, ctx, "auth.basic") };
  return undefined;
}

async function queryOptions(spec: PrometheusSpec, ctx: MeasureContext): Promise<QueryOptions> {
  const headers = Object.fromEntries(
    (spec.headers ?? []).map((h) => [h.key, substituted(h.value, ctx, false, `headers ${h.key}`)] as const),
  );
  const auth = await authOf(spec, ctx);
  return {
    timeoutMs: spec.timeout === undefined ? DEFAULT_TIMEOUT_MS : seconds(spec.timeout) * 1000,
    headers,
    ...(auth ? { auth } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
}

const seriesCount = (result: InstantResult) =>
  result.resultType === "scalar" ? 1 : result.resultType === "vector" ? result.samples.length : result.series.length;

export const prometheusProvider: MetricProvider = {
  name: "prometheus",
  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome> {
    const metadata: Record<string, string> = {};
    try {
      const spec = metric.provider.prometheus;
      if (!spec) throw new MeasureError("PROVIDER_MISMATCH", `metric ${metric.name} has no prometheus provider`);
      const client = clientFor(spec.address, ctx);
      metadata.address = client.display;
      const query = substituted(spec.query, ctx, true, "query");
      metadata.query = query;
      const opts = await queryOptions(spec, ctx);
      const range = spec.range;
      const result = range
        ? await client.range(
            query,
            new Date(ctx.now.getTime() - seconds(range.window) * 1000),
            ctx.now,
            seconds(range.step),
            opts,
          )
        : await client.instant(query, ctx.now, opts);
      return {
        ok: true,
        value: valuesOf(result),
        metadata: { ...metadata, resultType: result.resultType, series: String(seriesCount(result)) },
      };
    } catch (err) {
      return failure(err, metadata);
    }
  },
};
