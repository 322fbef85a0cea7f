// The import direction of src/, checked over the real import graph of every non-test module.
// A folder (or a file at the top of src/) may import its own modules and those of folders in the
// rows BELOW its own, never its row's peers nor anything above: so no cycle between folders, and the
// words everyone shares (api) import nothing of ours.
// A pure module (a planner, an evaluator, what builds an object from data) loads no I/O when it runs:
// what it imports at run time is api or another pure module, and of packages only those below.
// `import type` is erased before anything runs, so only the rows hold it; a pure module may borrow
// a type (KubeObject) from a layer below that does I/O.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

/** Top row first: cli may import everything else, api nothing. */
const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  // Commands' machinery: cli starts them, they never start a command.
  ["convert", "dev"],
  // What a controller process runs (the controller set), shared by `ramp controller` and `ramp demo`.
  ["runtime"],
  ["dashboard", "server"],
  // A FleetRollout walks one release through member clusters' Rollouts: it reads their objects.
  ["fleet"],
  ["rollout"],
  ["analysis", "traffic", "webhooks"],
  ["kube", "net"],
  ["api", "package-root.ts"],
];

/** Modules that say they are pure, by path ("x/" is a whole folder). */
const PURE: readonly string[] = [
  // Planners: observed state + now in, actions and status out.
  "rollout/plan/",
  "fleet/plan.ts",
  // Evaluators: measurements in, phases and verdicts out.
  "analysis/evaluate.ts",
  "analysis/conditions.ts",
  "analysis/args.ts",
  "analysis/run-spec.ts",
  "analysis/providers/burnRate/maths.ts",
  "analysis/providers/judge/stats.ts",
  "analysis/providers/prometheus/vanishing.ts",
  "analysis/providers/slo/queries.ts",
  "analysis/providers/web/json-path.ts",
  "analysis/providers/web/result.ts",
  "analysis/providers/job/job.ts",
  // What the controllers write, computed from what they read.
  "rollout/objects.ts",
  "rollout/operations.ts",
  "rollout/analysis-runs.ts",
  "rollout/transition.ts",
  "rollout/view.ts",
  "traffic/router.ts",
  "traffic/managed.ts",
  "traffic/gateway/httproute.ts",
  "traffic/gateway/reference-grant.ts",
  "traffic/istio/virtualservice.ts",
  "traffic/nginx/ingress.ts",
  "traffic/smi/trafficsplit.ts",
  "webhooks/backoff.ts",
  "webhooks/payload.ts",
  "webhooks/request.ts",
  "webhooks/signature.ts",
  "webhooks/slack.ts",
  "webhooks/subscriptions.ts",
  "net/policy.ts",
  "kube/kubeconfig.ts",
  "fleet/member.ts",
  "fleet/render.ts",
  "convert/",
  "cli/render.ts",
  "dashboard/view.ts",
  "dashboard/threshold.ts",
  "dev/routing-crds.ts",
  "dev/simulator/routes.ts",
  "dev/simulator/backends.ts",
];

/** Packages a pure module may load: parsers, schemas and maths, no sockets, files or processes. */
const PURE_PACKAGES = new Set(["zod", "yaml", "js-yaml", "@bufbuild/cel", "node:crypto", "node:util", "node:path"]);

interface ImportLine {
  from: string;
  /** Erased before the module runs: `import type`, `export type`. */
  typeOnly: boolean;
}

// import/export ... from "x" (default, named, namespace, type), import "x", import("x").
const FROM =
  /^[ \t]*(?:import|export)[ \t]+(type[ \t]+)?(?:\{[^}]*\}|\*(?:[ \t]+as[ \t]+\w+)?|\w+(?:[ \t]*,[ \t]*(?:\{[^}]*\}|\*[ \t]+as[ \t]+\w+))?)[ \t]*from[ \t]*"([^"]+)"/gm;
const BARE = /^[ \t]*import[ \t]*"([^"]+)"/gm;
const DYNAMIC = /\bimport\(\s*"([^"]+)"\s*\)/g;

function importLines(text: string): ImportLine[] {
  return [
    ...[...text.matchAll(FROM)].map((m) => ({ from: m[2] as string, typeOnly: m[1] !== undefined })),
    ...[...text.matchAll(BARE), ...text.matchAll(DYNAMIC)].map((m) => ({ from: m[1] as string, typeOnly: false })),
  ];
}

const SRC = import.meta.dirname;
const posix = (path: string) => path.split(sep).join("/");
const modules = new Map(
  (readdirSync(SRC, { recursive: true }) as string[])
    .map(posix)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => [f, importLines(readFileSync(join(SRC, f), "utf8"))]),
);

/** A src/-relative path for a relative import, else the package it names. */
const target = (file: string, from: string) =>
  from.startsWith(".") ? posix(relative(SRC, resolve(SRC, dirname(file), from))) : from;
const isModule = (path: string) => modules.has(path) || path.startsWith("../");
const unit = (path: string) => path.split("/")[0] as string;
const row = (path: string) => LAYERS.findIndex((r) => r.includes(unit(path)));
const isPure = (path: string) => unit(path) === "api" || PURE.some((p) => (p.endsWith("/") ? path.startsWith(p) : path === p));

const edges = [...modules].flatMap(([file, lines]) => lines.map((line) => ({ file, to: target(file, line.from), ...line })));
const ours = edges.filter((e) => e.from.startsWith("."));

function rowViolation(file: string, to: string): string | undefined {
  if (to.startsWith("../")) return `${file} imports ${to}, outside src/`;
  if (unit(file) === unit(to)) return undefined;
  const [mine, theirs] = [row(file), row(to)];
  if (theirs <= mine) return `${file} imports ${to}: ${unit(to)} is ${theirs === mine ? "its peer" : "above it"}`;
  return undefined;
}

function purityViolation(file: string, from: string, to: string): string | undefined {
  if (!from.startsWith(".")) return PURE_PACKAGES.has(from) ? undefined : `${file} loads ${from}`;
  return isPure(to) ? undefined : `${file} loads ${to}, which is not pure`;
}

describe("importLines", () => {
  it.each<[string, string, ImportLine[]]>([
    ["a named import", 'import { a, b } from "./x.ts";', [{ from: "./x.ts", typeOnly: false }]],
    ["one over lines", 'import {\n  a,\n  type B,\n} from "../y.ts";', [{ from: "../y.ts", typeOnly: false }]],
    ["a type import", 'import type { A } from "./x.ts";', [{ from: "./x.ts", typeOnly: true }]],
    ["a default and named", 'import pc, { x } from "picocolors";', [{ from: "picocolors", typeOnly: false }]],
    ["a namespace", 'import * as z from "zod";', [{ from: "zod", typeOnly: false }]],
    [
      "a re-export",
      'export { a } from "./a.ts";\nexport type { B } from "./b.ts";',
      [
        { from: "./a.ts", typeOnly: false },
        { from: "./b.ts", typeOnly: true },
      ],
    ],
    ["export star", 'export * from "./a.ts";', [{ from: "./a.ts", typeOnly: false }]],
    ["a side effect", 'import "./register.ts";', [{ from: "./register.ts", typeOnly: false }]],
    ["a dynamic import", 'const m = await import("./get.ts");', [{ from: "./get.ts", typeOnly: false }]],
    ["not a statement", '// import { a } from "./a.ts"\nconst s = "from";', []],
    ["an export of our own", 'export const from = "x";\nexport function f() {}', []],
  ])("%s", (_, text, lines) => {
    expect(importLines(text)).toEqual(lines);
  });
});

describe("the import direction of src/", () => {
  it("reads a graph of the size src/ has", () => {
    expect(modules.size).toBeGreaterThan(150);
    expect(ours.length).toBeGreaterThan(500);
    expect(ours.filter((e) => !isModule(e.to)).map((e) => `${e.file} -> ${e.from}`)).toEqual([]);
  });

  it("places every folder and top-level file of src/ in exactly one row", () => {
    const units = [...new Set([...modules.keys()].map(unit))].sort();
    expect(units.filter((u) => LAYERS.flat().filter((l) => l === u).length !== 1)).toEqual([]);
    expect(LAYERS.flat().filter((l) => !units.includes(l))).toEqual([]);
  });

  it("names only modules that exist as pure", () => {
    expect(PURE.filter((p) => ![...modules.keys()].some((m) => (p.endsWith("/") ? m.startsWith(p) : m === p)))).toEqual([]);
  });

  it("imports only downwards: nothing imports its peers or the rows above", () => {
    expect(ours.flatMap((e) => rowViolation(e.file, e.to) ?? [])).toEqual([]);
  });

  it("loads no I/O from a pure module (api is pure too)", () => {
    expect(
      edges.filter((e) => isPure(e.file) && !e.typeOnly).flatMap((e) => purityViolation(e.file, e.from, e.to) ?? []),
    ).toEqual([]);
  });

  it.each([
    ["api importing the apiserver client", "api/x.ts", "kube/client.ts", "is above it"],
    ["a router importing the controller", "traffic/router.ts", "rollout/objects.ts", "is above it"],
    ["the dashboard importing a command", "dashboard/view.ts", "cli/render.ts", "is above it"],
    ["a peer", "traffic/router.ts", "webhooks/payload.ts", "is its peer"],
  ])("refuses %s", (_, file, to, why) => {
    expect(rowViolation(file, to)).toBe(`${file} imports ${to}: ${unit(to)} ${why}`);
  });

  it.each([
    ["the apiserver client", "../../kube/client.ts", "rollout/plan/x.ts loads kube/client.ts, which is not pure"],
    ["the files", "node:fs", "rollout/plan/x.ts loads node:fs"],
    ["a parser", "yaml", undefined],
    ["another pure module", "./replicas.ts", undefined],
  ])("a planner loading %s: %s", (_, from, violation) => {
    const file = "rollout/plan/x.ts";
    expect(purityViolation(file, from, target(file, from))).toBe(violation);
  });
});
