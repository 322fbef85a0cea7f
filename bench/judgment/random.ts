// Seeded random numbers for the judgment study: a uniform generator and the distributions the
// simulated traffic needs (Poisson request counts, binomial errors, multinomial histogram buckets,
// log-normal latency noise). Every draw is exact (no normal approximation), so the tails that decide
// a false rollback are the real ones.

export type Uniform = () => number;

/** Uniform numbers in (0, 1) from a 32-bit seed (mulberry32; 0 is never returned). */
export function seeded(seed: number): Uniform {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

/** A 32-bit seed from several whole numbers (a cell's and a canary's), mixed so nearby inputs
 * give unrelated streams. */
export function seedOf(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A standard normal draw (Box-Muller). */
export function normal(u: Uniform): number {
  return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Gamma(shape, 1) (Marsaglia and Tsang; shape < 1 by the u^(1/shape) boost). */
export function gamma(u: Uniform, shape: number): number {
  if (shape < 1) return gamma(u, shape + 1) * u() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x ** 4 || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

function beta(u: Uniform, a: number, b: number): number {
  const x = gamma(u, a);
  return x / (x + gamma(u, b));
}

const LOG_FACTORIALS: number[] = [0];
function logFactorial(k: number): number {
  for (let i = LOG_FACTORIALS.length; i <= k; i++) LOG_FACTORIALS[i] = (LOG_FACTORIALS[i - 1] as number) + Math.log(i);
  return LOG_FACTORIALS[k] as number;
}

/** Poisson(mean): multiplication of uniforms below 30, else Hörmann's PTRS (transformed rejection). */
export function poisson(u: Uniform, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = u(); p > limit; p *= u()) k++;
    return k;
  }
  const slam = Math.sqrt(mean);
  const logMean = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = u() - 0.5;
    const V = u();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + mean + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logMean - logFactorial(k)) return k;
  }
}

/** Below this mean (of the rarer outcome), binomial draws count geometric gaps one by one. */
const SMALL_MEAN = 16;

/** Binomial(n, p): the k-th order statistic of n uniforms is Beta(k, n - k + 1), which halves n each
 * round (Knuth, TAOCP 3.4.1); once the mean is small, waiting times between successes. */
export function binomial(u: Uniform, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  let successes = 0;
  let trials = n;
  let prob = p;
  while (trials * Math.min(prob, 1 - prob) > SMALL_MEAN) {
    const a = 1 + (trials >> 1);
    const b = trials + 1 - a;
    const x = beta(u, a, b);
    if (x >= prob) {
      trials = a - 1;
      prob /= x;
    } else {
      successes += a;
      trials = b - 1;
      prob = (prob - x) / (1 - x);
    }
  }
  return successes + (prob > 0.5 ? trials - waitingTimes(u, trials, 1 - prob) : waitingTimes(u, trials, prob));
}

function waitingTimes(u: Uniform, n: number, p: number): number {
  if (p <= 0) return 0;
  const logQ = Math.log1p(-p);
  let k = 0;
  for (let at = Math.ceil(Math.log(u()) / logQ); at <= n; at += Math.ceil(Math.log(u()) / logQ)) k++;
  return k;
}

/** `n` spread over cells with the probabilities `probs` (summing to 1), by conditional binomials. */
export function multinomial(u: Uniform, n: number, probs: readonly number[]): number[] {
  const counts: number[] = [];
  let left = n;
  let mass = 1;
  for (const [i, p] of probs.entries()) {
    const k = i === probs.length - 1 ? left : binomial(u, left, mass > 0 ? Math.min(1, p / mass) : 0);
    counts.push(k);
    left -= k;
    mass -= p;
  }
  return counts;
}
