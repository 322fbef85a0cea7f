// Pure: Argo Rollouts and Flagger manifests in, Ramp manifests and a report out. Files are read
// together, so a Canary finds its Deployment, MetricTemplates and AlertProviders wherever they are in
// the input. Objects of other kinds pass through as written; comments are carried to the fields
// they were on where the field was mapped.
import {
  Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseAllDocuments,
  stringify,
  type YAMLMap,
} from "yaml";
import { API_VERSION } from "../api/kinds.ts";
import { type FieldPath, formatPath, validateObject } from "../api/validate.ts";
import { ARGO_API_VERSION, ARGO_KINDS, convertAnalysis, convertRollout } from "./argo.ts";
import { objectName, objectNamespace } from "./common.ts";
import { Fields, isRecord, type Json, report, type SourceDoc } from "./fields.ts";
import {
  type AlertProviderResult,
  convertAlertProvider,
  convertCanary,
  convertMetricTemplate,
  FLAGGER_API_VERSION,
  FLAGGER_KINDS,
  type Inventory,
  type MetricTemplateResult,
  NOTIFICATIONS_NAMESPACE,
} from "./flagger.ts";
import type { Finding } from "./report.ts";

export interface Input {
  file: string;
  text: string;
}

export interface Output {
  /** The input file these documents came from. */
  file: string;
  text: string;
}

export interface Conversion {
  outputs: Output[];
  findings: Finding[];
}

/** yaml's guard against alias bombs, and the deepest nesting read, as in `ramp lint`. */
const MAX_ALIAS_COUNT = 100;
const MAX_DEPTH = 64;

/** How deep a document nests, counted without recursion (hostile input must not overflow the stack). */
function depthOf(root: Node | null): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop() as [unknown, number];
    deepest = Math.max(deepest, depth);
    if (depth > MAX_DEPTH) break;
    if (isMap(node)) for (const pair of node.items) stack.push([pair.value, depth + 1]);
    else if (isSeq(node)) for (const item of node.items) stack.push([item, depth + 1]);
  }
  return deepest;
}

interface Parsed {
  file: string;
  source: Document.Parsed;
  value: Json;
  doc: SourceDoc;
}

/** Where a path shows: the key of the deepest field that exists, or the list item. */
function lineFinder(root: Node | null, lines: LineCounter, fallback: number): (path: FieldPath) => number {
  return (path) => {
    let node: Node | null = root;
    let at: Node | null = root;
    for (const key of path) {
      if (isMap(node)) {
        const pair = (node as YAMLMap).items.find((p) => isScalar(p.key) && p.key.value === key) as Pair<Node, Node> | undefined;
        if (!pair) break;
        at = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number" && node.items[key]) {
        node = node.items[key] as Node;
        at = node;
      } else break;
    }
    return at?.range ? lines.linePos(at.range[0]).line : fallback;
  };
}

const key = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

function parse(inputs: Input[], findings: Finding[]): Parsed[] {
  const parsed: Parsed[] = [];
  for (const { file, text } of inputs) {
    const lines = new LineCounter();
    for (const source of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })) {
      const start = lines.linePos(source.range[0]).line;
      const fail = (line: number, message: string) => findings.push({ file, line, object: "", path: [], kind: "error", message });
      if (source.errors.length) {
        for (const e of source.errors) fail(lines.linePos(e.pos[0]).line, `YAML: ${e.message.split("\n")[0]}`);
        continue;
      }
      if (source.contents === null) continue;
      if (depthOf(source.contents) > MAX_DEPTH) {
        fail(start, `YAML: nested deeper than ${MAX_DEPTH} levels`);
        continue;
      }
      let value: unknown;
      try {
        value = source.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (err) {
        fail(start, `YAML: ${(err as Error).message}`);
        continue;
      }
      if (value === null || value === undefined) continue; // an empty document
      if (!isRecord(value)) {
        fail(start, "not a Kubernetes object");
        continue;
      }
      const object = `${String(value.kind)}/${objectName(value)}`;
      const doc: SourceDoc = { file, object, lineOf: lineFinder(source.contents, lines, start), findings, moves: [] };
      parsed.push({ file, source, value, doc });
    }
  }
  return parsed;
}

/** Comments on source fields, by path, to carry over. */
function comments(root: Node | null): { path: FieldPath; onKey: boolean; before?: string; after?: string }[] {
  const out: { path: FieldPath; onKey: boolean; before?: string; after?: string }[] = [];
  const visit = (node: unknown, path: FieldPath) => {
    if (isMap(node))
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const p = [...path, String(pair.key.value)];
        const value = pair.value as Node | null;
        const before = pair.key.commentBefore ?? value?.commentBefore ?? undefined;
        if (before) out.push({ path: p, onKey: true, before });
        if (value?.comment) out.push({ path: p, onKey: false, after: value.comment });
        visit(value, p);
      }
    else if (isSeq(node))
      node.items.forEach((item, i) => {
        const n = item as Node;
        if (n.commentBefore || n.comment)
          out.push({
            path: [...path, i],
            onKey: false,
            ...(n.commentBefore ? { before: n.commentBefore } : {}),
            ...(n.comment ? { after: n.comment } : {}),
          });
        visit(n, [...path, i]);
      });
  };
  visit(root, []);
  return out;
}

function carryComments(p: Parsed, outputs: Document[]): void {
  const first = outputs[0];
  const top = p.source.commentBefore ?? p.source.contents?.commentBefore;
  if (first && top) first.commentBefore = top;
  for (const c of comments(p.source.contents)) {
    const move = p.doc.moves
      .filter((m) => m.from.length <= c.path.length && m.from.every((k, i) => c.path[i] === k))
      .sort((a, b) => b.from.length - a.from.length)[0];
    const out = move && outputs[move.output];
    if (!move || !out) continue;
    const to = [...move.to, ...c.path.slice(move.from.length)];
    if (c.onKey) {
      const parent = to.length > 1 ? out.getIn(to.slice(0, -1), true) : out.contents;
      const pair = isMap(parent) ? parent.items.find((i) => isScalar(i.key) && i.key.value === to.at(-1)) : undefined;
      if (pair && isScalar(pair.key)) pair.key.commentBefore = c.before;
    } else {
      const node = out.getIn(to, true);
      if (isScalar(node) || isMap(node) || isSeq(node)) {
        if (c.before) node.commentBefore = c.before;
        if (c.after) node.comment = c.after;
      }
    }
  }
}

/** A converted object that Ramp's own validation refuses is an error: the conversion is wrong there. */
function validate(obj: Json, p: Parsed, findings: Finding[]): void {
  if (obj.apiVersion !== API_VERSION) return;
  const result = validateObject(obj);
  if (result.status !== "checked") return;
  for (const problem of result.problems)
    findings.push({
      file: p.file,
      line: p.doc.lineOf([]),
      object: p.doc.object,
      path: [],
      kind: "error",
      message: `the converted ${result.kind}/${result.name} is not valid: ${formatPath(problem.path)}: ${problem.message}`,
    });
}

export function convertFiles(inputs: Input[]): Conversion {
  const findings: Finding[] = [];
  const parsed = parse(inputs, findings);
  const of = (p: Parsed, apiVersion: string, kinds: string[]) =>
    p.value.apiVersion === apiVersion && kinds.includes(String(p.value.kind));
  const rootOf = (p: Parsed) => {
    const root = new Fields(p.doc, [], p.value);
    root.ignore(["apiVersion", "kind", "status"]);
    for (const k of ["apiVersion", "kind"]) root.moved(k, [k]);
    return root;
  };

  const deployments = new Map<string, Json>();
  const metricTemplates = new Map<string, MetricTemplateResult>();
  const alertProviders = new Map<string, AlertProviderResult>();
  const destinations: Json = {};
  const done = new Map<Parsed, Json[]>();
  let notificationsHome: Parsed | undefined;
  for (const p of parsed) {
    const k = String(p.value.kind);
    const id = key(k, objectNamespace(p.value), objectName(p.value));
    if (p.value.apiVersion === "apps/v1" && k === "Deployment") deployments.set(id, p.value);
    if (!of(p, FLAGGER_API_VERSION, ["MetricTemplate", "AlertProvider"])) continue;
    const root = rootOf(p);
    root.child("metadata")?.ignore(["name", "namespace", "labels", "annotations"]);
    if (k === "MetricTemplate") metricTemplates.set(id, convertMetricTemplate(root));
    else {
      alertProviders.set(id, convertAlertProvider(root, destinations));
      notificationsHome ??= p;
    }
    root.done();
    done.set(p, []);
  }
  const inventory: Inventory = {
    deployment: (ns, name) => deployments.get(key("Deployment", ns, name)),
    metricTemplate: (ns, name) => metricTemplates.get(key("MetricTemplate", ns, name)),
    alertProvider: (ns, name) => alertProviders.get(key("AlertProvider", ns, name)),
  };
  if (notificationsHome && Object.keys(destinations).length)
    done.set(notificationsHome, [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "ramp-notifications", namespace: NOTIFICATIONS_NAMESPACE },
        data: { destinations: stringify(destinations) },
      },
    ]);

  const outputs = new Map<string, string[]>(inputs.map((i) => [i.file, []]));
  for (const p of parsed) {
    let objects = done.get(p);
    const argo = p.value.apiVersion === ARGO_API_VERSION;
    const flagger = p.value.apiVersion === FLAGGER_API_VERSION;
    if (!objects && (argo || flagger)) {
      const root = rootOf(p);
      const kind = String(p.value.kind);
      try {
        if (argo && ARGO_KINDS.includes(kind)) objects = kind === "Rollout" ? convertRollout(root) : convertAnalysis(root, kind);
        else if (flagger && FLAGGER_KINDS.includes(kind)) objects = convertCanary(root, inventory);
        else {
          root.ignore(Object.keys(p.value));
          report(p.doc, "dropped", [], `Ramp has no ${kind}`);
          objects = [];
        }
        root.done();
      } catch (err) {
        // Input no converter expected (a duration that does not parse, ...): this document fails, not the run.
        report(p.doc, "error", [], `cannot convert: ${(err as Error).message}`);
        objects = [];
      }
    }
    const texts = outputs.get(p.file) as string[];
    if (!objects) {
      texts.push(String(p.source).replace(/^---[^\n]*\n/, "")); // another kind: as written, comments and all
      continue;
    }
    const docs = objects.map((o) => new Document(o));
    carryComments(p, docs);
    for (const o of objects) validate(o, p, findings);
    texts.push(...docs.map(String));
  }
  return {
    outputs: [...outputs].filter(([, t]) => t.length).map(([file, t]) => ({ file, text: t.join("---\n") })),
    findings,
  };
}
