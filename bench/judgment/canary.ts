// One simulated canary: the canary's and the baseline's (stable's) traffic, scraped every 15 s from
// the canary's start, as the counters and histogram an HTTP service exports. Requests per scrape are
// Poisson, errors binomial, latencies log-normal spread over the histogram's buckets (multinomial).
// Noise beyond sampling: each minute, the error rate and the latency wobble (log-normal factors,
// mean 1 for the error rate): a share common to both versions (load, upstreams, the network) and a
// smaller share of each version's own (its pods, their neighbours).
import { normalSf } from "../../src/analysis/providers/judge/stats.ts";
import { binomial, multinomial, normal, poisson, type Uniform } from "./random.ts";

const SCRAPE_S = 15;
/** Upper bounds of the latency histogram in seconds (+Inf last): fine enough around the p99. */
export const BUCKETS = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.75, 1, 2.5, Number.POSITIVE_INFINITY];
/** z of the 99th percentile of a standard normal. */
const Z99 = 2.3263478740408408;

export interface Version {
  requestsPerSecond: number;
  errorRate: number;
  medianSeconds: number;
  p99Seconds: number;
}

/** Standard deviations of the log of each minute's factors. */
export interface Noise {
  errorRate: number;
  latency: number;
}

/** Each minute's error-rate and latency factors. */
export interface Wobble {
  errorRate: number[];
  latency: number[];
}

/** `minutes` of factors drawn with `noise`; the error-rate factors have mean 1. */
export function wobble(u: Uniform, noise: Noise, minutes: number): Wobble {
  const w: Wobble = { errorRate: [], latency: [] };
  for (let m = 0; m < minutes; m++) {
    w.errorRate.push(Math.exp(noise.errorRate * normal(u) - noise.errorRate ** 2 / 2));
    w.latency.push(Math.exp(noise.latency * normal(u)));
  }
  return w;
}

/** One version's exported series: cumulative counts at each scrape (scrape i at i * 15 s). */
export interface Traffic {
  times: number[];
  /** http_requests_total{code="200"} */
  ok: number[];
  /** http_requests_total{code="500"} */
  errors: number[];
  /** http_request_duration_seconds_bucket, one array per bound of BUCKETS. */
  buckets: number[][];
}

/** The probabilities of each bucket for a log-normal latency. */
function bucketProbabilities(median: number, p99: number): number[] {
  const sigma = Math.log(p99 / median) / Z99;
  const below = BUCKETS.map((b) => (b === Number.POSITIVE_INFINITY ? 1 : 1 - normalSf(Math.log(b / median) / sigma)));
  return below.map((p, i) => p - (i === 0 ? 0 : (below[i - 1] as number)));
}

/** `seconds` of one version's traffic; `shared` is the wobble common to both versions, `own` this
 * version's. */
export function simulate(u: Uniform, v: Version, shared: Wobble, own: Noise, seconds: number): Traffic {
  const scrapes = Math.floor(seconds / SCRAPE_S);
  const mine = wobble(u, own, Math.ceil(seconds / 60));
  const t: Traffic = { times: [0], ok: [0], errors: [0], buckets: BUCKETS.map(() => [0]) };
  const perMinute = 60 / SCRAPE_S;
  let errorRate = v.errorRate;
  let probs: number[] = [];
  for (let i = 1; i <= scrapes; i++) {
    if ((i - 1) % perMinute === 0) {
      const minute = (i - 1) / perMinute;
      const at = (f: number[]) => f[minute] ?? 1;
      errorRate = Math.min(1, v.errorRate * at(shared.errorRate) * at(mine.errorRate));
      const factor = at(shared.latency) * at(mine.latency);
      probs = bucketProbabilities(v.medianSeconds * factor, v.p99Seconds * factor);
    }
    const requests = poisson(u, v.requestsPerSecond * SCRAPE_S);
    const errors = binomial(u, requests, errorRate);
    const spread = multinomial(u, requests, probs);
    t.times.push(i * SCRAPE_S);
    t.ok.push((t.ok.at(-1) as number) + requests - errors);
    t.errors.push((t.errors.at(-1) as number) + errors);
    let cumulative = 0;
    for (const [b, series] of t.buckets.entries()) {
      cumulative += spread[b] as number;
      series.push((series.at(-1) as number) + cumulative);
    }
  }
  return t;
}
