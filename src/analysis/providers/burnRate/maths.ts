// Pure: the multi-window, multi-burn-rate checks of the SRE workbook (chapter 5, "Alerting on SLOs"),
// and the error budget left over a window. No I/O: the burnRate provider, the error-budget gate and
// the judgment study all call these.
//
// Burn rate: how fast errors spend the budget, relative to spending it exactly over the SLO period.
// 1 spends it all in the period; 14.4 spends a 30-day budget's 2% in one hour.

import { MAX_BURN_WINDOW_SECONDS } from "../../../api/analysis.ts";

/** errorRatio / (1 - objective): 0.0144 errors against a 99.9% objective burn at 14.4x. */
export function burnRate(errorRatio: number, objective: number): number {
  return errorRatio / (1 - objective);
}

/** The burn rate that spends `budgetShare` of a `periodMs` budget in `windowMs`: the workbook's
 * factors (2% of 30 days in 1h is 14.4, 5% in 6h is 6, 10% in 3 days is 1). */
export function factorFor(budgetShare: number, windowMs: number, periodMs: number): number {
  return (budgetShare * periodMs) / windowMs;
}

/** Share of the budget `windowMs` at `rate` spends of a `periodMs` budget (the inverse of factorFor). */
export function budgetSpent(rate: number, windowMs: number, periodMs: number): number {
  return (rate * windowMs) / periodMs;
}

/** Share of the window's error budget left: 1 with no errors, 0 when errors reached 1 - objective,
 * negative when overspent. */
export function budgetRemaining(errorRatio: number, objective: number): number {
  return 1 - burnRate(errorRatio, objective);
}

/** One alerting pair: it fires when the long and the short window both burn faster than `factor`
 * (the long one says it is significant, the short one that it is still happening). */
export interface WindowPair {
  longMs: number;
  shortMs: number;
  factor: number;
}

/** Error ratios measured for a pair; undefined is no data (no traffic in that window). */
export interface PairRatios {
  long: number | undefined;
  short: number | undefined;
}

export interface PairVerdict extends WindowPair {
  longBurnRate: number | undefined;
  shortBurnRate: number | undefined;
  firing: boolean;
}

export interface BurnRateDecision {
  pairs: PairVerdict[];
  /** Some pair fires. */
  firing: boolean;
  /** No pair fires and some pair lacks data: the check cannot say the service is fine. */
  noData: boolean;
}

/** The workbook's decision for `objective` (e.g. 0.999) over `pairs` and their measured `ratios`
 * (same order). A pair with a window lacking data does not fire. */
export function burnRateDecision(
  objective: number,
  pairs: readonly WindowPair[],
  ratios: readonly PairRatios[],
): BurnRateDecision {
  const verdicts = pairs.map((pair, i): PairVerdict => {
    const { long, short } = ratios[i] ?? { long: undefined, short: undefined };
    const longBurnRate = long === undefined || Number.isNaN(long) ? undefined : burnRate(long, objective);
    const shortBurnRate = short === undefined || Number.isNaN(short) ? undefined : burnRate(short, objective);
    const firing =
      longBurnRate !== undefined && shortBurnRate !== undefined && longBurnRate > pair.factor && shortBurnRate > pair.factor;
    return { ...pair, longBurnRate, shortBurnRate, firing };
  });
  const firing = verdicts.some((v) => v.firing);
  const noData = !firing && verdicts.some((v) => v.longBurnRate === undefined || v.shortBurnRate === undefined);
  return { pairs: verdicts, firing, noData };
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The workbook's page and ticket pairs for a 30-day SLO (short window 1/12 of the long one). */
export const WORKBOOK_PAIRS: readonly WindowPair[] = [
  { longMs: HOUR, shortMs: 5 * MINUTE, factor: 14.4 },
  { longMs: 6 * HOUR, shortMs: 30 * MINUTE, factor: 6 },
];

/** Shortest window a default pair uses: a rate needs two scrapes inside it, and Prometheus's
 * usual scrape interval is 15-30s. */
export const MIN_SHORT_MS = MINUTE;

/** The workbook's two pairs, scaled to a canary's life: a canary is judged within minutes, so hours
 * of windows would mostly measure before it existed. The short windows are one and three metric
 * intervals (at least MIN_SHORT_MS), the long ones twelve times those, as in the workbook; the
 * factors stay 14.4 and 6, so a pair fires at the same error ratio as the workbook's. The long
 * windows stay within MAX_BURN_WINDOW_SECONDS, as written ones must: a metric measured yearly must
 * not ask Prometheus for 36 years. */
export function canaryPairs(intervalMs: number): WindowPair[] {
  const base = Math.min(Math.max(MIN_SHORT_MS, intervalMs), (MAX_BURN_WINDOW_SECONDS * 1000) / 36);
  return [
    { longMs: 12 * base, shortMs: base, factor: 14.4 },
    { longMs: 36 * base, shortMs: 3 * base, factor: 6 },
  ];
}
