// `npm run fuzz`: seeded hostile manifests through `ramp lint` and the planners (src/cli/lint-fuzz.ts).
// Prints the figures and exits 1 on any crash or any case over 5 s; nothing here is a timed test.
//
//   node bench/fuzz.ts [--cases 10000] [--seed 13]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { type Distribution, fuzz } from "../src/cli/lint-fuzz.ts";

const { values: flags } = parseArgs({
  options: { cases: { type: "string", default: "10000" }, seed: { type: "string", default: "13" } },
});
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
console.log(`load average before: ${load()}`);
const shown = (d: Distribution) => `p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(0)} ms, max ${d.max.toFixed(0)} ms`;
const started = performance.now();
const f = fuzz(Number(flags.cases), Number(flags.seed));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `cases ${f.cases} (seed ${flags.seed}) in ${seconds} s, load average after: ${load()}\n` +
    `per case, wall clock: ${shown(f.wall)}; ${f.over5s} over 5 s\n` +
    `per case, CPU time:   ${shown(f.cpu)}\n` +
    `documents accepted ${f.accepted}, refused ${f.refused}; crashes ${f.crashes.length}`,
);
for (const s of f.slowest)
  console.log(`slow: ${s.ms.toFixed(0)} ms (CPU ${s.cpuMs.toFixed(0)} ms), ${s.bytes} chars: ${s.start}`);
for (const c of f.crashes.slice(0, 5)) console.log(`crash: ${c.crash}\n--- manifest ---\n${c.manifest}\n`);
process.exitCode = f.crashes.length || f.over5s ? 1 : 0;
