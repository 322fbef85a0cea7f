// Where a V8 CPU profile (node --cpu-prof, bench/rollouts.ts --cpu-profile) spent its time: self time
// by function, and by the file of the function, over the whole profile or its last seconds only.
// Figures only.
//
//   node bench/cpu-summary.ts <file.cpuprofile> [--last 60] [--top 30]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { last: { type: "string" }, top: { type: "string", default: "30" } },
});
const file = positionals[0];
if (!file) throw new Error("usage: node bench/cpu-summary.ts <file.cpuprofile> [--last 60] [--top 30]");

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Microseconds: each sample's time, from the deltas; a window of the last seconds ends at endTime.
const from = values.last ? profile.endTime - Number(values.last) * 1e6 : profile.startTime;
const selfByFunction = new Map<string, number>();
const selfByFile = new Map<string, number>();
let at = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i] ?? 0;
  const next = profile.timeDeltas[i + 1] ?? 0;
  if (at < from) continue;
  const frame = byId.get(profile.samples[i] as number)?.callFrame;
  if (!frame) continue;
  const where = frame.url.replace(/^.*\/(node_modules|dist|src)\//, "$1/") || "(native)";
  const fn = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
  selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + next);
  selfByFile.set(where, (selfByFile.get(where) ?? 0) + next);
  total += next;
}

const ms = (us: number) => (us / 1000).toFixed(1).padStart(9);
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top)))
    console.log(`${ms(v)} ms ${((100 * v) / (total || 1)).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(
  `${file}: ${ms(total).trim()} ms sampled${values.last ? ` in the last ${values.last} s` : ""} (idle samples included)`,
);
print("self time by function", selfByFunction);
print("self time by file", selfByFile);
