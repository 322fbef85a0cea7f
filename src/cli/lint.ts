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

/** 1 when any finding is an error, else 0. */
export const exitCodeOf = (findings: Finding[]): number => (findings.some((f) => f.severity === "error") ? 1 : 0);

/** Where a problem at `path` shows: the key of the deepest field that exists (a missing field shows
 * at its parent's key), or the list item. */
function positionOf(root: Node | null, path: FieldPath): Node | null {
  let node = root;
  let position = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      position = pair.key as Node;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof key === "number" && node.items[key]) {
      node = node.items[key] as Node;
      position = node;
    } else break;
  }
  return position;
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
      const node = positionOf(doc.contents, p.path);
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
      let exitCode = 0;
      for (const file of expandInputs(inputs)) {
        let text: string;
        try {
          text = readFileSync(file === "-" ? 0 : file, "utf8");
        } catch (err) {
          console.log(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          exitCode = 1;
          continue;
        }
        const findings = lintText(text, file === "-" ? "<stdin>" : file);
        for (const f of findings) console.log(formatFinding(f));
        exitCode = Math.max(exitCode, exitCodeOf(findings));
      }
      process.exitCode = exitCode;
    });
}
