// `ramp lint FILE... | -f FILE... | -`: checks manifests offline with the API's own schemas and CEL rules and
// prints `FILE:LINE: kind/name: path.to.field: message` for each problem.
import { readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import {
  Composer,
  CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  type Node,
  type Pair,
  Parser,
  Scalar,
  type YAMLMap,
  YAMLParseError,
} from "yaml";
import { compileCondition } from "../analysis/conditions.ts";
import { vanishingNumeratorWarning } from "../analysis/providers/prometheus/vanishing.ts";
import { type FieldPath, formatPath, type Problem, validateObject } from "../api/validate.ts";
import { yaml11Difference } from "./yaml11.ts";

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

/** Limits applied before parsing, so big input is refused fast. etcd refuses requests over 1.5 MiB
 * (its default --max-request-bytes; the apiserver's own body limit is 3 MiB), so no larger object
 * can be stored. The YAML composer copies a quoted scalar a character at a time: 2 MiB took 1.5 s
 * at load 10. */
export const MAX_DOCUMENT_BYTES = 1.5 * 1024 * 1024;
/** A file this big is refused unread: no stream of 1.5 MiB documents needs more. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Lexical tokens per document, counted as the lexer yields them, before the parser (which costs
 * ~5-20 µs per token, several times the lexer) sees any: parsing stops being the slow part however
 * the input is built (20k keys took 8 s at load 10). The largest example has 448 tokens (44 lines),
 * so this is ~2,000 lines of `key: value`. */
export const MAX_DOCUMENT_TOKENS = 20_000;
/** Deeper nesting than any Ramp object has; it would only make the parsers recurse. */
export const MAX_DEPTH = 64;
/** yaml's guard against alias bombs (billion laughs): aliases may expand to this many nodes. */
const MAX_ALIAS_COUNT = 100;

/** The documents of a stream, split at `---` lines (a YAML marker that cannot occur inside a
 * document's content), each with the line it starts on: one bad document cannot hide the next. */
export function splitDocuments(text: string): { text: string; line: number }[] {
  const docs: { text: string; line: number }[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  let at = 0;
  while (at <= text.length) {
    const eol = text.indexOf("\n", at);
    const end = eol === -1 ? text.length : eol;
    if (at > start && text.startsWith("---", at) && (end === at + 3 || /[\s#]/.test(text[at + 3] ?? ""))) {
      docs.push({ text: text.slice(start, at), line: startLine });
      start = at;
      startLine = line;
    }
    if (eol === -1) break;
    at = eol + 1;
    line++;
  }
  docs.push({ text: text.slice(start), line: startLine });
  return docs;
}

/** A document's lexical tokens, or why it is refused: more than MAX_DOCUMENT_TOKENS, or nested
 * deeper than MAX_DEPTH (the composer recurses: 1,700 levels of indentation overflowed its stack).
 * One pass, the lexer stopped at the limit. Depth counts open flow collections, the block
 * indentation levels still open, and the `-` and `?` indicators on the current line: never less than
 * the real depth, at most about twice it. */
function boundedTokens(text: string): { tokens: string[] } | { refused: string } {
  const tokens: string[] = [];
  const indents: number[] = [];
  let flow = 0;
  let compact = 0;
  let lineIndent = 0;
  let lineStart = true;
  for (const token of new Lexer().lex(text)) {
    if (tokens.push(token) > MAX_DOCUMENT_TOKENS)
      return { refused: `document has more than ${MAX_DOCUMENT_TOKENS} YAML tokens; ramp lint checks at most that many` };
    const type = CST.tokenType(token);
    if (type === "newline") {
      [lineStart, lineIndent, compact] = [true, 0, 0];
      continue;
    }
    if (type === "space" || type === "comment") {
      if (lineStart && type === "space") lineIndent = token.length;
      continue;
    }
    if (lineStart && flow === 0) {
      while ((indents.at(-1) ?? -1) >= lineIndent) indents.pop();
      indents.push(lineIndent);
    }
    lineStart = false;
    if (type === "flow-map-start" || type === "flow-seq-start") flow++;
    else if ((type === "flow-map-end" || type === "flow-seq-end") && flow > 0) flow--;
    else if ((type === "seq-item-ind" || type === "explicit-key-ind") && flow === 0) compact++;
    if (flow + indents.length + compact > MAX_DEPTH) return { refused: `YAML: nested deeper than ${MAX_DEPTH} levels` };
  }
  return { tokens };
}

/** parseDocument's work, from tokens already lexed (and counted), so the text is lexed once. */
function composeDocument(tokens: string[], length: number, lineCounter: LineCounter): Document.Parsed {
  const parser = new Parser(lineCounter.addNewLine);
  function* parsed() {
    lineCounter.addNewLine(0);
    for (const token of tokens) yield* parser.next(token);
    yield* parser.end();
  }
  const docs = [...new Composer({ uniqueKeys: false }).compose(parsed(), true, length)];
  const [doc, ...more] = docs as [Document.Parsed, ...Document.Parsed[]];
  for (const extra of more.slice(0, 1))
    doc.errors.push(
      new YAMLParseError([extra.range[0], extra.range[1]], "MULTIPLE_DOCS", "more than one document between --- lines"),
    );
  return doc;
}

interface Walked {
  node: Node;
  path: FieldPath;
}

/** Every node of a document with its path, iteratively (no recursion to overflow), each once:
 * aliases are not followed. Also the deepest level reached. */
function walk(root: Node | null): { nodes: Walked[]; depth: number } {
  const nodes: Walked[] = [];
  let depth = 0;
  const stack: Walked[] = root ? [{ node: root, path: [] }] : [];
  while (stack.length) {
    const item = stack.pop() as Walked;
    nodes.push(item);
    depth = Math.max(depth, item.path.length);
    if (depth > MAX_DEPTH) break;
    if (isMap(item.node)) {
      for (const pair of item.node.items) {
        const key = pair.key as Node | null;
        const name = isScalar(key) ? String(key.value) : "?";
        if (key) nodes.push({ node: key, path: [...item.path, name] });
        if (pair.value) stack.push({ node: pair.value as Node, path: [...item.path, name] });
      }
    } else if (isSeq(item.node)) {
      item.node.items.forEach((child, i) => {
        if (child) stack.push({ node: child as Node, path: [...item.path, i] });
      });
    }
  }
  return { nodes, depth };
}

/** Keys repeated in a mapping, in linear time (yaml's own uniqueKeys check is quadratic). */
function duplicateKeys(nodes: Walked[]): Scalar[] {
  const repeated: Scalar[] = [];
  for (const { node } of nodes) {
    if (!isMap(node)) continue;
    const seen = new Set<unknown>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      if (seen.has(pair.key.value)) repeated.push(pair.key);
      seen.add(pair.key.value);
    }
  }
  return repeated;
}

/** Where a problem at `path` shows: the key of the deepest field that exists (a missing field shows
 * at its parent's key), or the list item. Each mapping's keys are indexed once. */
function positioner(root: Node | null): (path: FieldPath) => Node | null {
  const index = new Map<Node, Map<unknown, Pair>>();
  const pairOf = (map: YAMLMap, key: unknown) => {
    let keys = index.get(map);
    if (!keys) {
      keys = new Map();
      for (const p of map.items) {
        const k = (p.key as { value?: unknown } | null)?.value;
        if (!keys.has(k)) keys.set(k, p);
      }
      index.set(map, keys);
    }
    return keys.get(key);
  };
  return (path) => {
    let node = root;
    let position = root;
    for (const key of path) {
      if (isMap(node)) {
        const pair = pairOf(node, key);
        if (!pair) break;
        position = pair.key as Node;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof key === "number" && node.items[key]) {
        node = node.items[key] as Node;
        position = node;
      } else break;
    }
    return position;
  };
}

/** successCondition and failureCondition of a template's (or run's) metrics that do not compile. */
function conditionProblems(kind: string, doc: unknown): Problem[] {
  if (!["AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"].includes(kind)) return [];
  const metrics = (doc as { spec?: { metrics?: unknown } }).spec?.metrics;
  if (!Array.isArray(metrics)) return [];
  return metrics.flatMap((metric, i) =>
    (["successCondition", "failureCondition"] as const).flatMap((field): Problem[] => {
      const text = (metric as Record<string, unknown> | null)?.[field];
      if (typeof text !== "string") return [];
      const compiled = compileCondition(text);
      return compiled.ok ? [] : [{ path: ["spec", "metrics", i, field], message: compiled.message }];
    }),
  );
}

/** Prometheus queries of a template's (or run's) metrics whose ratio can be empty on a healthy
 * service: notes, since the query is valid and may mean it. */
function vanishingRatios(kind: string, doc: unknown): Problem[] {
  if (!["AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"].includes(kind)) return [];
  const metrics = (doc as { spec?: { metrics?: unknown } }).spec?.metrics;
  if (!Array.isArray(metrics)) return [];
  return metrics.flatMap((metric, i): Problem[] => {
    const query = (metric as { provider?: { prometheus?: { query?: unknown } } } | null)?.provider?.prometheus?.query;
    const warning = typeof query === "string" ? vanishingNumeratorWarning(query) : undefined;
    return warning ? [{ path: ["spec", "metrics", i, "provider", "prometheus", "query"], message: warning }] : [];
  });
}

/** Lints one YAML document that starts on line `firstLine` of `file`. */
function lintDocument(text: string, file: string, firstLine: number): Finding[] {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number) => lineCounter.linePos(offset).line + firstLine - 1;
  const problem = (line: number, message: string, object = "", field = ""): Finding => ({
    file,
    line,
    object,
    field,
    message,
    severity: "error",
  });
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_DOCUMENT_BYTES)
    return [problem(firstLine, `document is ${bytes} bytes; etcd refuses objects over ${MAX_DOCUMENT_BYTES} (1.5 MiB)`)];
  const lexed = boundedTokens(text);
  if ("refused" in lexed) return [problem(firstLine, lexed.refused)];
  const doc = composeDocument(lexed.tokens, text.length, lineCounter);
  if (doc.errors.length) return doc.errors.map((e) => problem(lineOf(e.pos[0]), `YAML: ${e.message.split("\n")[0]}`));
  if (doc.contents === null) return []; // an empty document, as after a trailing ---
  const { nodes, depth } = walk(doc.contents);
  const start = lineOf(doc.range[0]);
  if (depth > MAX_DEPTH) return [problem(start, `YAML: nested deeper than ${MAX_DEPTH} levels`)];
  const lineOfNode = (n: Node | null | undefined) => (n?.range ? lineOf(n.range[0]) : start);
  const repeated = duplicateKeys(nodes);
  if (repeated.length)
    return repeated.map((k) => problem(lineOfNode(k), `YAML: duplicate key ${JSON.stringify(String(k.value)).slice(0, 80)}`));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const alias = nodes.find((n) => isAlias(n.node));
    return [problem(lineOfNode(alias?.node), `YAML: ${(err as Error).message} (aliases expand past ${MAX_ALIAS_COUNT} nodes)`)];
  }
  const result = validateObject(value);
  if (result.status === "skipped") return [{ ...problem(start, `skipped ${result.note}`), severity: "note" }];
  const object = `${result.kind}/${result.name}`;
  const positionOf = positioner(doc.contents);
  const findings = [...result.problems, ...conditionProblems(result.kind, value)].map((p) =>
    problem(lineOfNode(positionOf(p.path)), p.message, object, formatPath(p.path) || "(document)"),
  );
  for (const { node, path } of nodes) {
    if (!isScalar(node) || node.type !== Scalar.PLAIN || node.tag || typeof node.source !== "string") continue;
    const difference = yaml11Difference(node.source, node.value);
    if (difference) findings.push(problem(lineOfNode(node), difference, object, formatPath(path) || "(document)"));
  }
  for (const p of vanishingRatios(result.kind, value)) {
    const at = lineOfNode(positionOf(p.path));
    findings.push({ ...problem(at, `${object}: ${formatPath(p.path)}: ${p.message}`), severity: "note" });
  }
  return findings;
}

/** Lints one YAML text, which may hold several documents, each parsed on its own. A document
 * that trips lint itself is reported, not thrown: the run goes on with the next one. */
export function lintText(text: string, file: string): Finding[] {
  const findings = splitDocuments(text).flatMap(({ text: doc, line }) => {
    try {
      return lintDocument(doc, file, line);
    } catch (err) {
      return [
        {
          file,
          line,
          object: "",
          field: "",
          message: `lint failed on this document: ${(err as Error).message}`,
          severity: "error" as const,
        },
      ];
    }
  });
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

/** A file's text, or why it is not read: missing, unreadable, or over MAX_FILE_BYTES (checked
 * before reading; standard input is read up to the limit). */
export function readInput(file: string): { text: string } | { error: string } {
  try {
    if (file !== "-") {
      const size = statSync(file).size;
      if (size > MAX_FILE_BYTES) return { error: `${size} bytes; files over ${MAX_FILE_BYTES} are not read` };
      return { text: readFileSync(file, "utf8") };
    }
    const chunks: Buffer[] = [];
    const chunk = Buffer.alloc(1 << 20);
    let total = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(0, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") continue;
        if ((err as NodeJS.ErrnoException).code === "EOF") break;
        throw err;
      }
      if (n === 0) break;
      total += n;
      if (total > MAX_FILE_BYTES) return { error: `more than ${MAX_FILE_BYTES} bytes; not read further` };
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return { text: Buffer.concat(chunks).toString("utf8") };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

/** Files as arguments or with kubectl's repeatable -f, as `lint` and `convert` take them. */
export const withFileInputs = (command: Command): Command =>
  command
    .argument("[files...]", "YAML files or folders; - reads standard input")
    .option(
      "-f, --filename <file>",
      "a YAML file or folder, as kubectl's -f; repeatable; - reads standard input",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    );

export function registerLint(program: Command): void {
  withFileInputs(
    program.command("lint").description("check Ramp manifests offline with the same schemas and rules as the cluster"),
  ).action((positional: string[], options: { filename: string[] }) => {
    const inputs = [...options.filename, ...positional];
    if (inputs.length === 0) {
      console.error("error: ramp lint needs a file, a folder or - (as arguments or with -f)");
      process.exitCode = 2;
      return;
    }
    let exitCode = 0;
    for (const file of expandInputs(inputs)) {
      const input = readInput(file);
      if ("error" in input) {
        console.log(`${file}: cannot read: ${input.error}`);
        exitCode = 1;
        continue;
      }
      const findings = lintText(input.text, file === "-" ? "<stdin>" : file);
      for (const f of findings) console.log(formatFinding(f));
      exitCode = Math.max(exitCode, exitCodeOf(findings));
    }
    process.exitCode = exitCode;
  });
}
