// `ramp lint FILE... | -`: checks manifests offline with the API's own schemas and CEL rules and
// prints `FILE:LINE: kind/name: path.to.field: message` for each problem.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import { type FieldPath, formatPath, validateObject } from "../api/validate.ts";

export interface Finding {
  file: string;
  line: number;
  /** `kind/name`, or empty for a YAML syntax error. */
  object: string;
  field: string;
  message: string;
  severity: "error" | "note";
}

export const formatFinding = (f: Finding): string =>
  f.severity === "note"
    ? `${f.file}:${f.line}: note: ${f.message}`
    : `${f.file}:${f.line}: ${[f.object, f.field, f.message].filter(Boolean).join(": ")}`;

/** The node at `path`, or the deepest existing ancestor, so a missing field points at its parent. */
function nodeAt(root: Node | null, path: FieldPath): Node | null {
  let node = root;
  for (const key of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      // An unknown field is best shown at its key.
      next = pair && (key === path[path.length - 1] ? (pair.key ?? pair.value) : pair.value);
    } else if (isSeq(node) && typeof key === "number") next = node.items[key];
    if (!next) break;
    node = next as Node;
  }
  return node;
}

/** Lints one YAML text, which may hold several documents. */
export function lintText(text: string, file: string): Finding[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const findings: Finding[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const start = lineOf(doc.range[0]);
    if (doc.errors.length) {
      for (const e of doc.errors)
        findings.push({
          file,
          line: lineOf(e.pos[0]),
          object: "",
          field: "",
          message: `YAML: ${e.message.split("\n")[0]}`,
          severity: "error",
        });
      continue;
    }
    if (doc.contents === null) continue; // an empty document, as after a trailing ---
    const result = validateObject(doc.toJS({ maxAliasCount: 100 }));
    if (result.status === "skipped") {
      findings.push({ file, line: start, object: "", field: "", message: `skipped ${result.note}`, severity: "note" });
      continue;
    }
    for (const p of result.problems) {
      const node = nodeAt(doc.contents, p.path);
      findings.push({
        file,
        line: node?.range ? lineOf(node.range[0]) : start,
        object: `${result.kind}/${result.name}`,
        field: formatPath(p.path) || "(document)",
        message: p.message,
        severity: "error",
      });
    }
  }
  return findings.sort((a, b) => a.line - b.line);
}

/** Files named on the command line; folders are searched for *.yaml and *.yml. */
export function expandInputs(inputs: string[]): string[] {
  return inputs.flatMap((input) => {
    if (input === "-" || !statSync(input, { throwIfNoEntry: false })?.isDirectory()) return [input];
    return readdirSync(input, { recursive: true, encoding: "utf8" })
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(input, f));
  });
}

export function registerLint(program: Command): void {
  program
    .command("lint")
    .description("check Ramp manifests offline with the same schemas and rules as the cluster")
    .argument("<files...>", "YAML files or folders; - reads standard input")
    .action((inputs: string[]) => {
      let failed = false;
      for (const file of expandInputs(inputs)) {
        let text: string;
        try {
          text = readFileSync(file === "-" ? 0 : file, "utf8");
        } catch (err) {
          console.log(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          failed = true;
          continue;
        }
        const findings = lintText(text, file === "-" ? "<stdin>" : file);
        for (const f of findings) console.log(formatFinding(f));
        failed ||= findings.some((f) => f.severity === "error");
      }
      process.exitCode = failed ? 1 : 0;
    });
}
