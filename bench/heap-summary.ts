// What a V8 heap snapshot (node --heapsnapshot-signal, bench/rollouts.ts --heap-snapshot) holds: self
// size and count by node type and constructor (strings by their first characters' kind), the largest
// first. Figures only.
//
//   node bench/heap-summary.ts <file.heapsnapshot> [--top 25]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" } } });
const file = positionals[0];
if (!file) throw new Error("usage: node bench/heap-summary.ts <file.heapsnapshot> [--top 25]");

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0];
const [TYPE, NAME, SIZE] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [number, number, number];
const width = fields.length;

const groups = new Map<string, { bytes: number; count: number }>();
let totalBytes = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + TYPE] as number] ?? "?";
  const size = snap.nodes[i + SIZE] as number;
  // Strings and code are grouped by type alone: their names are their contents.
  const name = ["string", "concatenated string", "sliced string", "code", "number"].includes(type)
    ? ""
    : (snap.strings[snap.nodes[i + NAME] as number] ?? "").slice(0, 60);
  const key = `${type}${name ? ` ${name}` : ""}`;
  const g = groups.get(key) ?? { bytes: 0, count: 0 };
  g.bytes += size;
  g.count += 1;
  groups.set(key, g);
  totalBytes += size;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`${file}: ${mib(totalBytes)} MiB in ${snap.nodes.length / width} objects`);
console.log(`${"MiB".padStart(8)} ${"share".padStart(6)} ${"count".padStart(9)}  what`);
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(values.top))) {
  console.log(
    `${mib(g.bytes).padStart(8)} ${`${((100 * g.bytes) / totalBytes).toFixed(0)}%`.padStart(6)} ${String(g.count).padStart(9)}  ${key}`,
  );
}
