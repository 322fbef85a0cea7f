// What Prometheus 2.x (Debian's, which the dev cluster runs) computes for the functions the study's
// templates use, over a series sampled at known times: increase()/rate() with Prometheus's
// extrapolation (extrapolatedRate in promql/functions.go; range selectors closed at both ends) and
// histogram_quantile's linear interpolation within buckets (bucketQuantile in promql/quantile.go).
// test/judgment-queries.test.ts checks these against a real Prometheus holding the same samples.

/** A counter's samples: values[i] was scraped at times[i] seconds (times ascending, shared by the
 * series of one target). */
export interface Sampled {
  times: readonly number[];
  values: readonly number[];
}

/** Indexes of the samples inside [end - range, end]. */
function within(times: readonly number[], end: number, range: number): [number, number] {
  let first = 0;
  while (first < times.length && (times[first] as number) < end - range) first++;
  let last = first - 1;
  while (last + 1 < times.length && (times[last + 1] as number) <= end) last++;
  return [first, last];
}

/** increase(series[range]) evaluated at `end`, or undefined when fewer than two samples fall in the
 * range (Prometheus gives no sample then). */
export function increase(series: Sampled, end: number, range: number): number | undefined {
  const [first, last] = within(series.times, end, range);
  if (last - first < 1) return undefined;
  const { times, values } = series;
  const firstValue = values[first] as number;
  let result = (values[last] as number) - firstValue;
  let previous = 0;
  for (let i = first; i <= last; i++) {
    const v = values[i] as number;
    if (v < previous) result += previous; // a counter reset
    previous = v;
  }
  const sampled = (times[last] as number) - (times[first] as number);
  const average = sampled / (last - first);
  let toStart = (times[first] as number) - (end - range);
  const toEnd = end - (times[last] as number);
  if (result > 0 && firstValue >= 0) toStart = Math.min(toStart, sampled * (firstValue / result));
  const threshold = average * 1.1;
  const extrapolated = sampled + (toStart < threshold ? toStart : average / 2) + (toEnd < threshold ? toEnd : average / 2);
  return result * (extrapolated / sampled);
}

/** rate(series[range]) at `end`. */
export function rate(series: Sampled, end: number, range: number): number | undefined {
  const inc = increase(series, end, range);
  return inc === undefined ? undefined : inc / range;
}

/** sum(f(series)) over several series: undefined when none gives a sample, as an empty vector. */
export function sumOf(values: readonly (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
}

/** histogram_quantile(q, ...) over cumulative bucket values (one per upper bound, +Inf last).
 * NaN without observations, as Prometheus. */
export function histogramQuantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number {
  if (bounds.length < 2 || bounds.at(-1) !== Number.POSITIVE_INFINITY) return Number.NaN;
  const counts: number[] = [];
  let max = Number.NEGATIVE_INFINITY;
  for (const c of cumulative) {
    max = Math.max(max, c); // ensureMonotonic
    counts.push(max);
  }
  const observations = counts.at(-1) as number;
  if (!(observations > 0)) return Number.NaN;
  let rank = q * observations;
  let b = 0;
  while (b < counts.length - 1 && (counts[b] as number) < rank) b++;
  if (b === counts.length - 1) return bounds[bounds.length - 2] as number;
  if (b === 0 && (bounds[0] as number) <= 0) return bounds[0] as number;
  let start = 0;
  let count = counts[b] as number;
  if (b > 0) {
    start = bounds[b - 1] as number;
    count -= counts[b - 1] as number;
    rank -= counts[b - 1] as number;
  }
  return start + ((bounds[b] as number) - start) * (rank / count);
}
