// One line per metric provider: the key of metric.provider it serves.
import type { Metric } from "../../api/analysis.ts";
import type { MetricProvider } from "../types.ts";
import { burnRateProvider } from "./burnRate/provider.ts";
import { judgeProvider } from "./judge/provider.ts";
import { prometheusProvider } from "./prometheus/provider.ts";
import { sloProvider } from "./slo/provider.ts";

type ProviderKind = keyof Metric["provider"];

const PROVIDERS: Record<ProviderKind, MetricProvider> = {
  prometheus: prometheusProvider,
  slo: sloProvider,
  judge: judgeProvider,
  burnRate: burnRateProvider,
};

/** The provider the metric names (the schema makes it exactly one), or undefined for none. */
export function providerFor(metric: Metric): MetricProvider | undefined {
  const kind = (Object.keys(PROVIDERS) as ProviderKind[]).find((k) => metric.provider[k] !== undefined);
  return kind ? PROVIDERS[kind] : undefined;
}
