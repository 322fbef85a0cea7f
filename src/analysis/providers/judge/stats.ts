// Pure statistics for the judge: Mann-Whitney U for latency-like samples, Fisher's exact test and
// the two-proportion z-test for error counts. "greater" means the canary (the first sample) tends
// to be larger than the baseline.
export type Alternative = "greater" | "less" | "two-sided";

/** Upper tail of the standard normal, P(Z > z). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Numerical Recipes' Chebyshev fit of erfc: relative error below 1.2e-7 everywhere, tails included,
 * which is what small p-values need. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** The p-value of a standard normal statistic for the alternative. */
function normalP(z: number, alternative: Alternative): number {
  if (alternative === "greater") return normalSf(z);
  if (alternative === "less") return normalSf(-z);
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** (canary - baseline) / |baseline|; from a zero baseline any change is infinite. */
export function relativeChange(canary: number, baseline: number): number {
  if (baseline === 0) return canary === 0 ? 0 : Math.sign(canary) * Number.POSITIVE_INFINITY;
  return (canary - baseline) / Math.abs(baseline);
}

export interface RankTest {
  /** Mann-Whitney U of the canary: pairs (canary, baseline) where the canary is larger, ties count half. */
  u: number;
  p: number;
  /** Exact distribution (small samples without ties) or the normal approximation. */
  exact: boolean;
  /** The continuity-corrected normal statistic, when approximated. */
  z?: number;
}

/** Beyond this many values in all, the counts of the exact distribution exceed 2^52, where doubles
 * stop being exact integers; the normal approximation is close there anyway. */
const EXACT_MAX_TOTAL = 50;

/** How many orderings of n1 + n2 distinct values give each U: the coefficients of the Gaussian
 * binomial [n1+n2 choose n1]_q, built as the product over i of (1 - q^(n2+i)) / (1 - q^i). */
function uCounts(n1: number, n2: number): number[] {
  const top = n1 * n2;
  const counts = new Array<number>(top + 1).fill(0);
  counts[0] = 1;
  for (let i = 1; i <= n1; i++) {
    for (let k = top; k >= n2 + i; k--) counts[k] = (counts[k] as number) - (counts[k - n2 - i] as number);
    for (let k = i; k <= top; k++) counts[k] = (counts[k] as number) + (counts[k - i] as number);
  }
  return counts;
}

/** Mann-Whitney U test of the canary sample `x` against the baseline `y` (no NaN in either), with
 * average ranks for ties. Exact for small samples without ties; else the normal approximation with
 * the tie-corrected variance and a continuity correction (as scipy's default). */
export function mannWhitney(x: readonly number[], y: readonly number[], alternative: Alternative): RankTest {
  const n1 = x.length;
  const n2 = y.length;
  const all = [...x.map((v) => ({ v, canary: true })), ...y.map((v) => ({ v, canary: false }))].sort((a, b) =>
    a.v === b.v ? 0 : a.v < b.v ? -1 : 1,
  );
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]?.v === all[i]?.v) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]?.canary) rankSum += rank;
    ties += (j - i) ** 3 - (j - i);
    i = j;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  if (n1 === 0 || n2 === 0) return { u, p: 1, exact: true };

  if (ties === 0 && n1 + n2 <= EXACT_MAX_TOTAL) {
    const counts = uCounts(n1, n2);
    const total = counts.reduce((a, b) => a + b, 0);
    const atLeast = counts.slice(u).reduce((a, b) => a + b, 0) / total;
    const atMost = counts.slice(0, u + 1).reduce((a, b) => a + b, 0) / total;
    const p = alternative === "greater" ? atLeast : alternative === "less" ? atMost : Math.min(1, 2 * Math.min(atLeast, atMost));
    return { u, p, exact: true };
  }

  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1, exact: false, z: 0 }; // all values equal: no evidence either way
  const shift = u - (n1 * n2) / 2;
  const z =
    alternative === "greater"
      ? (shift - 0.5) / sigma
      : alternative === "less"
        ? (shift + 0.5) / sigma
        : (Math.abs(shift) - 0.5) / sigma;
  return { u, p: normalP(z, alternative), exact: false, z };
}

/** Errors out of requests for one version. */
export interface Counts {
  errors: number;
  total: number;
}

/** Lanczos (g = 7, 9 terms): about 15 significant digits for x >= 0.5. */
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905,
  -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

function logGamma(x: number): number {
  const shifted = x - 1;
  const t = shifted + 7.5;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (shifted + i);
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

const logChoose = (n: number, k: number) => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

/** Fisher's exact test on whole counts: the canary's errors against the hypergeometric distribution
 * of all errors spread over both versions' requests. Two-sided sums every table no more likely than
 * the observed one. */
export function fisherExact(canary: Counts, baseline: Counts, alternative: Alternative): number {
  const n = canary.total + baseline.total;
  const errors = canary.errors + baseline.errors;
  const lo = Math.max(0, canary.total - (n - errors));
  const hi = Math.min(errors, canary.total);
  const logTotal = logChoose(n, canary.total);
  const pmf = (k: number) => Math.exp(logChoose(errors, k) + logChoose(n - errors, canary.total - k) - logTotal);
  let p = 0;
  if (alternative === "greater") for (let k = canary.errors; k <= hi; k++) p += pmf(k);
  else if (alternative === "less") for (let k = lo; k <= canary.errors; k++) p += pmf(k);
  else {
    const observed = pmf(canary.errors) * (1 + 1e-7);
    for (let k = lo; k <= hi; k++) {
      const q = pmf(k);
      if (q <= observed) p += q;
    }
  }
  return Math.min(1, p);
}

/** The pooled two-proportion z-test. */
export function twoProportionZ(canary: Counts, baseline: Counts, alternative: Alternative): { z: number; p: number } {
  const pooled = (canary.errors + baseline.errors) / (canary.total + baseline.total);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / canary.total + 1 / baseline.total));
  if (se === 0) return { z: 0, p: 1 }; // no errors, or nothing but errors, on both sides
  const z = (canary.errors / canary.total - baseline.errors / baseline.total) / se;
  return { z, p: normalP(z, alternative) };
}

/** Below this expected count in a cell of the 2x2 table, the normal approximation is poor. */
const MIN_EXPECTED = 5;

/** Error proportions compared: Fisher's exact test when an expected cell count is small (a few
 * errors, as a fresh canary has), else the z-test. Counts are rounded to whole requests. */
export function compareProportions(
  canary: Counts,
  baseline: Counts,
  alternative: Alternative,
): { test: "fisher" | "z-test"; p: number; z?: number } {
  const c = { errors: Math.round(canary.errors), total: Math.round(canary.total) };
  const b = { errors: Math.round(baseline.errors), total: Math.round(baseline.total) };
  const n = c.total + b.total;
  const errors = c.errors + b.errors;
  const expected = [c.total, b.total].flatMap((total) => [(total * errors) / n, (total * (n - errors)) / n]);
  if (Math.min(...expected) < MIN_EXPECTED) return { test: "fisher", p: fisherExact(c, b, alternative) };
  return { test: "z-test", ...twoProportionZ(c, b, alternative) };
}
