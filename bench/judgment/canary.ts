// One simulated canary: the canary's and the baseline's (stable's) traffic, scraped every 15 s from
// the canary's start, as the counters and histogram an HTTP service exports. Requests per scrape are
// Poisson, errors binomial, latencies log-normal spread over the histogram's buckets (multinomial).
// Noise beyond sampling: each minute, each version's error rate and median latency wobble
// (log-normal), as real services' do with load and upstreams.
import { normalSf } from "../../src/analysis/providers/judge/stats.ts";
import { binomial, multinomial, normal, poisson, type Uniform } from "./random.ts";

export const SCRAPE_S = 15;
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

export interface Noise {
  /** Standard deviation of the log of each minute's error-rate factor (mean factor 1). */
  errorRate: number;
  /** Standard deviation of the log of each minute's median-latency factor. */
  latency: number;
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

/** `seconds` of one version's traffic. */
export function simulate(u: Uniform, v: Version, noise: Noise, seconds: number): Traffic {
  const scrapes = Math.floor(seconds / SCRAPE_S);
  const t: Traffic = { times: [0], ok: [0], errors: [0], buckets: BUCKETS.map(() => [0]) };
  const perMinute = 60 / SCRAPE_S;
  let errorRate = v.errorRate;
  let probs: number[] = [];
  for (let i = 1; i <= scrapes; i++) {
    if ((i - 1) % perMinute === 0) {
      errorRate = Math.min(1, v.errorRate * Math.exp(noise.errorRate * normal(u) - noise.errorRate ** 2 / 2));
      const factor = Math.exp(noise.latency * normal(u));
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
