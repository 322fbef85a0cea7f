// What the Prometheus-backed providers (prometheus, slo, judge) share: the address, argument
// substitution, reading results as measured values, and turning every failure into an outcome.
import { type Code, CodedError } from "../../../api/codes.ts";
import { durationMs } from "../../../api/duration.ts";
import { SecretAccessError } from "../../../kube/secrets.ts";
import { substitute } from "../../args.ts";
import type { MeasureContext, MeasuredValue, ProviderOutcome } from "../../types.ts";
import { type InstantResult, PrometheusClient, PrometheusError } from "./client.ts";

/** A failure before or after the query (no address, a bad argument, an unreadable Secret). */
export class MeasureError extends CodedError<Code> {
  override name = "MeasureError";
}

/** The failed outcome for anything a provider caught; `metadata` says what was being measured. */
export function failure(err: unknown, metadata: Record<string, string>): ProviderOutcome {
  const withMetadata = Object.keys(metadata).length ? { metadata } : {};
  if (err instanceof PrometheusError || err instanceof MeasureError) {
    return { ok: false, code: err.code, message: err.message, ...withMetadata };
  }
  return { ok: false, code: "PROVIDER_ERROR", message: err instanceof Error ? err.message : String(err), ...withMetadata };
}

/** A key of a Secret in the run's namespace (opted in to analysis); `field` names the metric's field in messages. */
export async function readSecret(ref: { name: string; key: string }, ctx: MeasureContext, field: string): Promise<string> {
  const where = `key ${ref.key} of Secret ${ctx.namespace ? `${ctx.namespace}/` : ""}${ref.name} (${field})`;
  if (!ctx.readSecret || !ctx.namespace) throw new MeasureError("SECRET_UNREADABLE", `cannot read ${where}: no cluster access`);
  try {
    return await ctx.readSecret(ctx.namespace, ref.name, ref.key);
  } catch (err) {
    // Opt-in refusals keep their own code, so the fix (a label) is plain.
    const code = err instanceof SecretAccessError ? err.code : "SECRET_UNREADABLE";
    throw new MeasureError(code, `cannot read ${where}: ${(err as Error).message}`);
  }
}

/** The metric's own address, else the controller's default. */
export function clientFor(address: string | undefined, ctx: MeasureContext): PrometheusClient {
  const chosen = address || ctx.defaultPrometheusUrl;
  if (!chosen) {
    throw new MeasureError(
      "PROMETHEUS_NO_ADDRESS",
      "no Prometheus address: set the metric's address or the controller's --prometheus-url (RAMP_PROMETHEUS_URL)",
    );
  }
  return new PrometheusClient(chosen, ctx.outbound);
}

/** `text` with {{args.NAME}} replaced; `promql` escapes values placed inside PromQL string literals. */
export function substituted(text: string, ctx: MeasureContext, promql: boolean, field: string): string {
  try {
    return substitute(text, ctx.args, { promql });
  } catch (err) {
    throw new MeasureError("BAD_ARGUMENT", `${field}: ${(err as Error).message}`);
  }
}

export const seconds = (duration: number | string) => durationMs(duration) / 1000;

/** Series in a stable order (by their labels), so lists of values do not depend on Prometheus's order. */
const byLabels = <T extends { labels: Record<string, string> }>(items: T[]) =>
  items
    .map((item) => ({ item, key: JSON.stringify(Object.entries(item.labels).sort()) }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));

/** A scalar or one sample: a number; several samples: one per series; a matrix: the values of its
 * series one after the other; nothing: undefined (no data). */
export function valuesOf(result: InstantResult): MeasuredValue | undefined {
  switch (result.resultType) {
    case "scalar":
      return result.value;
    case "vector": {
      const values = byLabels(result.samples).map(({ item }) => item.value);
      return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
    }
    case "matrix": {
      const values = byLabels(result.series).flatMap(({ item }) => item.points.map((p) => p.value));
      return values.length === 0 ? undefined : values;
    }
  }
}

/** A count: the sum over the series (e.g. `increase(x[10m])` without sum()); no series counts 0. */
export function countOf(result: InstantResult, what: string): number {
  if (result.resultType === "matrix") {
    throw new PrometheusError("PROMETHEUS_NON_NUMERIC", `${what} gives a range of values; it must give one number per series`);
  }
  if (result.resultType === "scalar") return result.value;
  return result.samples.reduce((sum, s) => sum + s.value, 0);
}

/** A figure for metadata: whole numbers (counts) as they are, others to four significant digits. */
export const figure = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(4))));
