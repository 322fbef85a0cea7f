// The judgment study: how often Ramp's analysis decides right. Thousands of simulated canaries with
// known truth (good, twice the error rate, or +25% p99), at several traffic levels and healthy error
// rates, each judged by every way of writing the check (bench/judgment/methods.ts) through the real
// evaluation (dueMetrics/advanceRun, CEL conditions, limits) and the providers' own decisions.
// Prints, per method and cell, the share of bad canaries rolled back within one and two intervals
// (and by the run's end), the share of good ones rolled back, and what an idle canary gets; then the
// lowest traffic at which each method meets the target.
//
// Run: npm run bench:judgment [-- --canaries 2000 --seed 1 --rates 1,10,30,100,300,1000
//        --errors 0.001,0.003,0.01 --wobble 0.2,0.03,0.05,0.01]
// Seeded: the same arguments print the same table.
import { parseArgs } from "node:util";
import type { AnalysisPhase } from "../src/api/analysis.ts";
import { type Noise, simulate, type Version, wobble } from "./judgment/canary.ts";
import { type BadKind, type Baseline, type Method, methods, type World } from "./judgment/methods.ts";
import { seeded, seedOf } from "./judgment/random.ts";
import { runAnalysis } from "./judgment/run.ts";

const { values: opts } = parseArgs({
  options: {
    canaries: { type: "string", default: "2000" },
    seed: { type: "string", default: "1" },
    rates: { type: "string", default: "1,10,30,100,300,1000" },
    errors: { type: "string", default: "0.001,0.003,0.01" },
    /** Log-sd of each minute's factors: shared error rate, shared latency, own error rate, own latency. */
    wobble: { type: "string", default: "0.2,0.03,0.05,0.01" },
  },
});
const GOOD_CANARIES = Number(opts.canaries);
/** Bad canaries per cell: half as many, enough to tell 99% from 97%. */
const BAD_CANARIES = Math.ceil(GOOD_CANARIES / 2);
const SEED = Number(opts.seed);
const RATES = (opts.rates as string).split(",").map(Number);
const ERROR_RATES = (opts.errors as string).split(",").map(Number);

/** The stable version runs this many pods beside the canary's one (a 20% step). */
const STABLE_PODS = 4;
const MEDIAN_S = 0.1;
const P99_S = 0.25;
/** Minute-to-minute wobble common to both versions, and each version's own. */
const [sharedErrors, sharedLatency, ownErrors, ownLatency] = (opts.wobble as string).split(",").map(Number);
const SHARED_NOISE: Noise = { errorRate: sharedErrors ?? 0, latency: sharedLatency ?? 0 };
const OWN_NOISE: Noise = { errorRate: ownErrors ?? 0, latency: ownLatency ?? 0 };
/** Long enough for every template's five measurements, a minute apart from the first minute. */
const SIMULATED_S = 300;
const TARGET = { caughtWithinTwo: 0.99, falseRollback: 0.005 };

type Kind = "good" | BadKind;
const KINDS: Kind[] = ["good", "errors", "latency"];

function versionOf(kind: Kind, rps: number, errorRate: number): Version {
  return {
    requestsPerSecond: rps,
    errorRate: kind === "errors" ? 2 * errorRate : errorRate,
    medianSeconds: MEDIAN_S,
    p99Seconds: kind === "latency" ? 1.25 * P99_S : P99_S,
  };
}

interface Tally {
  n: number;
  /** Failed at the first, second, ... measurement. */
  failedAt: number[];
  phases: Partial<Record<AnalysisPhase, number>>;
  /** Runs that ended Failed, by the metric that failed. */
  failedBy: Record<string, number>;
}

const share = (k: number, n: number) => (n ? k / n : 0);
const percent = (x: number) => `${(100 * x).toFixed(x < 0.1 && x > 0 ? 2 : 1)}%`;

function tallyCell(rps: number, errorRate: number, kind: Kind, cellSeed: number): Map<string, Tally> {
  const baseline: Baseline = { errorRate, p99Seconds: P99_S };
  const all = methods(baseline);
  const tallies = new Map<string, Tally>(
    all.map((m) => [m.name, { n: 0, failedAt: [0, 0, 0, 0, 0, 0], phases: {}, failedBy: {} }]),
  );
  const canaries = kind === "good" ? GOOD_CANARIES : BAD_CANARIES;
  for (let i = 0; i < canaries; i++) {
    const u = seeded(seedOf(cellSeed, i));
    const shared = wobble(u, SHARED_NOISE, SIMULATED_S / 60);
    const world: World = {
      canary: simulate(u, versionOf(kind, rps, errorRate), shared, OWN_NOISE, SIMULATED_S),
      baseline: simulate(u, versionOf("good", rps * STABLE_PODS, errorRate), shared, OWN_NOISE, SIMULATED_S),
    };
    for (const method of all) {
      const end = runAnalysis(method, world);
      const t = tallies.get(method.name) as Tally;
      t.n++;
      t.phases[end.phase] = (t.phases[end.phase] ?? 0) + 1;
      if (end.phase === "Failed") {
        const measurement = Math.round(end.atS / 60);
        t.failedAt[measurement] = (t.failedAt[measurement] ?? 0) + 1;
        for (const name of end.culprits) t.failedBy[name] = (t.failedBy[name] ?? 0) + 1;
      }
    }
  }
  return tallies;
}

const caughtWithin = (t: Tally, measurements: number) =>
  share(
    t.failedAt.slice(0, measurements + 1).reduce((a, b) => a + b, 0),
    t.n,
  );

interface Row {
  method: Method;
  rps: number;
  errorRate: number;
  kind: Kind;
  t: Tally;
}

const started = performance.now();
const rows: Row[] = [];
let cell = 0;
for (const rps of RATES) {
  for (const errorRate of ERROR_RATES) {
    for (const kind of KINDS) {
      const tallies = tallyCell(rps, errorRate, kind, seedOf(SEED, cell++));
      for (const method of methods({ errorRate, p99Seconds: P99_S })) {
        rows.push({ method, rps, errorRate, kind, t: tallies.get(method.name) as Tally });
      }
    }
  }
  console.error(`${rps} req/s done after ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

// An idle canary (and an idle stable): no randomness, one run each.
const idle = new Map<string, AnalysisPhase>();
{
  const u = seeded(SEED);
  const shared = wobble(u, SHARED_NOISE, SIMULATED_S / 60);
  const world: World = {
    canary: simulate(u, versionOf("good", 0, 0.001), shared, OWN_NOISE, SIMULATED_S),
    baseline: simulate(u, versionOf("good", 0, 0.001), shared, OWN_NOISE, SIMULATED_S),
  };
  for (const method of methods({ errorRate: 0.001, p99Seconds: P99_S })) idle.set(method.name, runAnalysis(method, world).phase);
}

const names = [...new Set(rows.map((r) => r.method.name))];
console.log(
  `Judgment study: ${GOOD_CANARIES} good and ${BAD_CANARIES} bad canaries per cell, seed ${SEED}; canary 1 pod, stable ${STABLE_PODS} pods;`,
);
console.log(
  `healthy p50 ${MEDIAN_S * 1000} ms, p99 ${P99_S * 1000} ms; bad = 2x the error rate, or p99 +25% (same median); noise per minute (sd of the log): error rate ${SHARED_NOISE.errorRate} common + ${OWN_NOISE.errorRate} own, latency ${SHARED_NOISE.latency} common + ${OWN_NOISE.latency} own.`,
);
console.log("Every template measures each minute from the first, 5 times. Caught: the run Failed (a rollback).\n");
console.log(
  "| method | req/s per pod | healthy errors | bad kind | caught in 1 interval | in 2 | by the end | good rolled back | good paused |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
const good = (r: Row) =>
  rows.find((g) => g.method.name === r.method.name && g.rps === r.rps && g.errorRate === r.errorRate && g.kind === "good") as Row;
for (const name of names) {
  for (const r of rows.filter((x) => x.method.name === name && x.kind !== "good")) {
    const g = good(r).t;
    const blind = r.method.blind.has(r.kind as BadKind);
    console.log(
      `| ${name} | ${r.rps} | ${percent(r.errorRate)} | ${r.kind === "errors" ? "2x errors" : "p99 +25%"} | ${
        blind
          ? "not checked | | "
          : `${percent(caughtWithin(r.t, 1))} | ${percent(caughtWithin(r.t, 2))} | ${percent(caughtWithin(r.t, 5))}`
      } | ${percent(share(g.phases.Failed ?? 0, g.n))} | ${percent(share(g.phases.Inconclusive ?? 0, g.n))} |`,
    );
  }
}

console.log(
  "\nIn short: bad canaries caught within two intervals (2x errors / p99 +25%), and good ones rolled back, by healthy error rate:\n",
);
console.log(`| method | req/s per pod | ${ERROR_RATES.map((e) => `healthy ${percent(e)}: caught / rolled back`).join(" | ")} |`);
console.log(`| --- | --- | ${ERROR_RATES.map(() => "---").join(" | ")} |`);
for (const name of names) {
  for (const rps of RATES) {
    const cells = ERROR_RATES.map((errorRate) => {
      const of = (kind: Kind) =>
        rows.find((r) => r.method.name === name && r.rps === rps && r.errorRate === errorRate && r.kind === kind) as Row;
      const caught = (kind: BadKind) => (of(kind).method.blind.has(kind) ? "-" : percent(caughtWithin(of(kind).t, 2)));
      const g = of("good").t;
      return `${caught("errors")} / ${caught("latency")} / ${percent(share(g.phases.Failed ?? 0, g.n))}`;
    });
    console.log(`| ${name} | ${rps} | ${cells.join(" | ")} |`);
  }
}

console.log("\nGood canaries rolled back, by the metric that failed:\n");
for (const r of rows.filter((x) => x.kind === "good" && Object.keys(x.t.failedBy).length)) {
  const by = Object.entries(r.t.failedBy).map(([name, k]) => `${name} ${percent(share(k, r.t.n))}`);
  console.log(`- ${r.method.name}, ${r.rps} req/s, ${percent(r.errorRate)}: ${by.join(", ")}`);
}

console.log("\nAn idle canary (0 req/s on both versions) ends:");
for (const [name, phase] of idle) console.log(`- ${name}: ${phase}`);

console.log(
  `\nLowest traffic meeting the target (>= ${percent(TARGET.caughtWithinTwo)} of bad canaries caught within two intervals, <= ${percent(TARGET.falseRollback)} of good ones rolled back):\n`,
);
console.log(`| method | ${ERROR_RATES.map((e) => `healthy errors ${percent(e)}`).join(" | ")} |`);
console.log(`| --- | ${ERROR_RATES.map(() => "---").join(" | ")} |`);
for (const name of names) {
  const cells = ERROR_RATES.map((errorRate) => {
    const meets = (rps: number) =>
      rows
        .filter((r) => r.method.name === name && r.rps === rps && r.errorRate === errorRate)
        .every((r) =>
          r.kind === "good"
            ? share(r.t.phases.Failed ?? 0, r.t.n) <= TARGET.falseRollback
            : r.method.blind.has(r.kind) || caughtWithin(r.t, 2) >= TARGET.caughtWithinTwo,
        );
    const lowest = RATES.find(meets);
    return lowest === undefined ? `not met up to ${Math.max(...RATES)} req/s` : `${lowest} req/s`;
  });
  console.log(`| ${name} | ${cells.join(" | ")} |`);
}
console.log(
  `\n${rows.length / names.length} cells x ${names.length} methods in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
