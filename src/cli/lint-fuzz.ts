// The lint fuzzer: manifests from examples/ mutated the ways a hostile author would (wrong types,
// huge and negative numbers, deep nesting, unicode, alias bombs, big strings and files, binary
// garbage) go through `ramp lint`, and every Rollout lint accepts goes through the planner.
// `npm run fuzz` runs 10,000 cases and prints the figures; lint-fuzz.test.ts runs a sample.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { rolloutSpec } from "../api/rollout.ts";
import { planRollout } from "../rollout/plan/rollout.ts";
import type { Observed } from "../rollout/plan/types.ts";
import { exitCodeOf, lintText, splitDocuments } from "./lint.ts";

/** Each document of each example, as text. */
export function exampleDocuments(dir = join(import.meta.dirname, "../../examples")): string[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => splitDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.text))
    .filter((d) => /kind:/.test(d));
}

const MIB = 1024 * 1024;

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    -0.5,
    1e308,
    -1e308,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    2 ** 31,
    2 ** 53 + 2,
    1.5,
    true,
    null,
    "",
    "010",
    "on",
    "1_000",
    "0x1F",
    "1:30",
    "9007199254740991s",
    "99999999999h",
    "1e400",
    "NaN",
    "http://169.254.169.254/",
    "result >",
    "result.all(x, result.all(y, result.all(z, x < y)))",
    "../../etc/passwd",
    "{{args.x}}",
    [],
    {},
    [[[[[[]]]]]],
  ),
  fc.integer(),
  fc.double(),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer({ min: 1, max: 200 }).map((n) => "x".repeat(n * 100)),
  fc.integer({ min: 1, max: 300 }).map((depth) => {
    let v: unknown = "leaf";
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  }),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 10 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 10 }),
);

type Json = Record<string, unknown> | unknown[];

/** Every path to a value inside a parsed document. */
function pathsOf(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...prefix, i], out);
  } else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  out.push(prefix);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? {} : value;
  let node = root as Json;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key] as Json;
  const last = path.at(-1) as string | number;
  if (remove && Array.isArray(node) && typeof last === "number") node.splice(last, 1);
  else if (remove) delete (node as Record<string, unknown>)[last as string];
  else (node as Record<string | number, unknown>)[last] = value;
  return root;
}

/** Structural mutations of one example document: values replaced, fields removed or added. */
const structural = (docs: string[]) =>
  fc
    .record({
      doc: fc.constantFrom(...docs),
      edits: fc.array(
        fc.record({ pick: fc.nat(), value: hostileValue, remove: fc.boolean(), key: fc.string({ maxLength: 12 }) }),
        { minLength: 1, maxLength: 6 },
      ),
    })
    .map(({ doc, edits }) => {
      let value: unknown = parse(doc);
      for (const edit of edits) {
        const paths = pathsOf(value);
        const path = paths[edit.pick % paths.length] ?? [];
        const target = path.length ? path : [edit.key];
        value = setAt(value, edit.remove || edit.pick % 7 ? target : [...target.slice(0, -1), edit.key], edit.value, edit.remove);
      }
      return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
    });

/** An alias bomb: each level nine aliases of the one before. */
const aliasBomb = fc.integer({ min: 3, max: 9 }).map((levels) => {
  const lines = ["apiVersion: ramp.dev/v1alpha1", "kind: Rollout", "metadata: {name: bomb}", 'l0: &l0 ["lol"]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(",")}]`,
    );
  return `${lines.join("\n")}\nspec: *l${levels - 1}\n`;
});

/** Text-level damage: truncation, inserted bytes, garbage, big strings and files, deep flow nesting. */
const textual = (docs: string[]) =>
  fc.oneof(
    fc
      .record({ doc: fc.constantFrom(...docs), at: fc.nat(), junk: fc.string({ unit: "binary", maxLength: 20 }) })
      .map(({ doc, at, junk }) => doc.slice(0, at % (doc.length + 1)) + junk + doc.slice(at % (doc.length + 1))),
    fc.record({ doc: fc.constantFrom(...docs), at: fc.nat() }).map(({ doc, at }) => doc.slice(0, at % (doc.length + 1))),
    fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes).toString("utf8")),
    fc
      .constantFrom("[", "{", "- ")
      .chain((open) =>
        fc
          .integer({ min: 50, max: 20_000 })
          .map((n) => `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nspec: ${open.repeat(n)}\n`),
      ),
    fc.constantFrom(docs[0] as string).map(
      (doc) => `${doc}\n---\n${"a".repeat(10 * MIB)}\n---\n${doc}`, // a 10 MB file with a good document either side
    ),
    fc
      .record({ doc: fc.constantFrom(...docs), n: fc.integer({ min: 1, max: 2 * MIB }) })
      .map(({ doc, n }) => doc.replace(/(url|query|address|name|image): .*/, `$1: "http://${"a".repeat(n)} "`)),
    fc
      .integer({ min: 50, max: 2_000 })
      .map(
        (n) =>
          `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nspec:\n${Array.from({ length: n }, (_, i) => `${" ".repeat(i + 1)}a:`).join("\n")} x\n`,
      ),
    fc
      .integer({ min: 1_000, max: 50_000 })
      .map(
        (n) =>
          `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata:\n  name: keys\n  labels:\n${Array.from({ length: n }, (_, i) => `    k${i}: v`).join("\n")}\n`,
      ),
    aliasBomb,
  );

/** A manifest to try: mostly structural mutations, and every kind of damage now and then. */
export const hostileManifest = (docs: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: structural(docs), weight: 6 },
    { arbitrary: textual(docs), weight: 3 },
    { arbitrary: aliasBomb, weight: 1 },
  );

const T0 = new Date("2026-11-22T10:00:00Z");

/** Observed states an accepted Rollout is planned in: just created, and mid-rollout with a stable
 * ReplicaSet and a new template. */
function observedStates(spec: ReturnType<typeof rolloutSpec.parse>): Observed[] {
  const base = { name: "fuzz", generation: 2, spec, analysisRuns: [], services: {}, now: T0, revisions: [] };
  const replicas = Math.min(spec.replicas, 1000);
  const rs = (hash: string, n: number, revision: number) => ({
    name: `fuzz-${hash}`,
    hash,
    revision,
    replicas: n,
    current: n,
    ready: n,
    available: n,
  });
  return [
    { ...base, status: {}, templateHash: "new", replicaSets: [] },
    {
      ...base,
      status: { currentPodHash: "new", stableRS: "old", currentStepIndex: 1 },
      templateHash: "new",
      replicaSets: [rs("old", replicas, 1), rs("new", 1, 2)],
    },
    {
      // Mid-update with the stable ReplicaSet deleted and its template saved.
      ...base,
      status: { currentPodHash: "new", stableRS: "old", currentStepIndex: 1 },
      templateHash: "new",
      replicaSets: [rs("new", 1, 2)],
      revisions: [{ name: "fuzz-old", hash: "old", revision: 1 }],
    },
  ];
}

export interface CaseResult {
  /** Wall-clock milliseconds, and the CPU milliseconds of this process (on a loaded machine the
   * two part: CPU time is what the input costs, wall time what waiting for a core adds). */
  ms: number;
  cpuMs: number;
  accepted: number;
  refused: number;
  /** What threw: lint reporting a failure of its own, or the planner throwing on accepted input. */
  crash?: string;
}

/** Lints one manifest and plans every accepted Rollout in it. */
export function runCase(text: string): CaseResult {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let accepted = 0;
  let refused = 0;
  let crash: string | undefined;
  try {
    for (const { text: doc } of splitDocuments(text)) {
      const findings = lintText(doc, "fuzz.yaml");
      const own = findings.find((f) => f.message.startsWith("lint failed"));
      if (own) crash = `lint: ${own.message}`;
      if (exitCodeOf(findings) !== 0) {
        refused++;
        continue;
      }
      if (findings.length) continue; // skipped: not a Ramp object, or an empty document
      accepted++;
      const value = parse(doc) as { kind?: string; spec?: unknown } | null;
      if (value?.kind !== "Rollout") continue;
      for (const observed of observedStates(rolloutSpec.parse(value.spec))) planRollout(observed);
    }
  } catch (err) {
    crash = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300);
  }
  const { user, system } = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (user + system) / 1000, accepted, refused, ...(crash ? { crash } : {}) };
}

export interface FuzzFigures {
  cases: number;
  /** Wall-clock milliseconds per case: median, 99th percentile, slowest; the same for CPU time. */
  wall: Distribution;
  cpu: Distribution;
  over5s: number;
  /** The slowest cases (wall clock): how long, how big, how they start. */
  slowest: { ms: number; cpuMs: number; bytes: number; start: string }[];
  accepted: number;
  refused: number;
  crashes: { manifest: string; crash: string }[];
}

const SLOWEST = 5;

export interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

/** Runs `cases` seeded cases and sums up. Cases are generated one at a time (some are 10 MB). */
export function fuzz(cases: number, seed: number, docs = exampleDocuments()): FuzzFigures {
  const figures: FuzzFigures = {
    cases: 0,
    wall: distribution([]),
    cpu: distribution([]),
    over5s: 0,
    slowest: [],
    accepted: 0,
    refused: 0,
    crashes: [],
  };
  const wall: number[] = [];
  const cpu: number[] = [];
  const record = (manifest: string) => {
    const r = runCase(manifest);
    figures.cases++;
    wall.push(r.ms);
    cpu.push(r.cpuMs);
    if (r.ms > 5000) figures.over5s++;
    if (figures.slowest.length < SLOWEST || r.ms > (figures.slowest.at(-1)?.ms ?? 0)) {
      const start = JSON.stringify(manifest.slice(0, 160).replace(/(.)\1{20,}/gs, "$1…")).slice(0, 100);
      figures.slowest = [...figures.slowest, { ms: r.ms, cpuMs: r.cpuMs, bytes: manifest.length, start }]
        .sort((a, b) => b.ms - a.ms)
        .slice(0, SLOWEST);
    }
    figures.accepted += r.accepted;
    figures.refused += r.refused;
    if (r.crash) figures.crashes.push({ manifest: manifest.slice(0, 2000), crash: r.crash });
    return true; // never a failure, so fast-check never shrinks: the figures say what happened
  };
  fc.check(fc.property(hostileManifest(docs), record), { numRuns: cases, seed });
  return { ...figures, wall: distribution(wall), cpu: distribution(cpu) };
}
