// Pure: the slo provider's judgement from what its queries gave. Fewer requests than minRequests,
// or a limited figure missing, is no data; any limit broken is Failed; else Successful.
import { figure } from "../prometheus/measure.ts";

export interface SloLimits {
  minRequests: number;
  /** Highest acceptable share of 5xx, 0 to 1. */
  errorRateMax?: number;
  latency?: { quantile: number; maxSeconds: number };
}

export interface SloReading {
  requests: number;
  /** undefined: the query gave nothing (or NaN). */
  errorRate: number | undefined;
  latencySeconds: number | undefined;
}

export type SloJudgement =
  | { verdict: "Successful" | "Failed"; value: number | undefined; reason: string }
  | { verdict: undefined; reason: string };

/** `window` is the PromQL window, for the reasons' wording. */
export function judgeSlo(limits: SloLimits, reading: SloReading, window: string): SloJudgement {
  if (!(reading.requests >= limits.minRequests)) {
    return {
      verdict: undefined,
      reason: `${figure(reading.requests)} requests in ${window}, fewer than minRequests (${limits.minRequests})`,
    };
  }
  const checks: { what: string; value: number | undefined; max: number; unit: string }[] = [];
  if (limits.errorRateMax !== undefined) {
    checks.push({ what: "error rate", value: reading.errorRate, max: limits.errorRateMax, unit: "" });
  }
  if (limits.latency) {
    const what = `p${figure(limits.latency.quantile * 100)} latency`;
    checks.push({ what, value: reading.latencySeconds, max: limits.latency.maxSeconds, unit: "s" });
  }
  const missing = checks.find((c) => c.value === undefined);
  if (missing) return { verdict: undefined, reason: `no ${missing.what} over ${window}` };
  const broken = checks.flatMap((c) =>
    c.value !== undefined && c.value > c.max ? [`${c.what} ${figure(c.value)}${c.unit} above ${c.max}${c.unit}`] : [],
  );
  return {
    verdict: broken.length ? "Failed" : "Successful",
    value: limits.errorRateMax !== undefined ? reading.errorRate : reading.latencySeconds,
    reason: broken.length ? broken.join("; ") : "within limits",
  };
}
