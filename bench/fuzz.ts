// `npm run fuzz`: seeded hostile manifests through `ramp lint` and the planners (src/cli/lint-fuzz.ts).
// Prints the figures and exits 1 on any crash or any case over 5 s; nothing here is a timed test.
//
//   node bench/fuzz.ts [--cases 10000] [--seed 13]
import { parseArgs } from "node:util";
import { fuzz } from "../src/cli/lint-fuzz.ts";

const { values: flags } = parseArgs({
  options: { cases: { type: "string", default: "10000" }, seed: { type: "string", default: "13" } },
});
const started = performance.now();
const f = fuzz(Number(flags.cases), Number(flags.seed));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `cases ${f.cases} (seed ${flags.seed}) in ${seconds} s: max ${f.maxMs.toFixed(0)} ms per case, ${f.over5s} over 5 s; ` +
    `documents accepted ${f.accepted}, refused ${f.refused}; crashes ${f.crashes.length}`,
);
for (const c of f.crashes.slice(0, 5)) console.log(`crash: ${c.crash}\n--- manifest ---\n${c.manifest}\n`);
process.exitCode = f.crashes.length || f.over5s ? 1 : 0;
