// Offline validation of a Ramp object with the same rules the apiserver applies: the zod schema
// (types, ranges, patterns, unknown fields) and the CEL rules that the CRDs carry.
import { type CelInput, celEnv, parse, plan } from "@bufbuild/cel";
import { z } from "zod";
import { API_VERSION, GROUP, KINDS, kindByName } from "./kinds.ts";
import { rulesOf } from "./schema-kit.ts";

export type FieldPath = (string | number)[];

export interface Problem {
  path: FieldPath;
  message: string;
}

export type Validation =
  | { status: "checked"; kind: string; name: string; problems: Problem[] }
  | { status: "skipped"; note: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const valueAt = (root: unknown, path: FieldPath): unknown =>
  path.reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), root);

/** `spec.strategy.canary.steps[1].setWeight` */
export const formatPath = (path: FieldPath): string =>
  path.reduce<string>((out, k) => (typeof k === "number" ? `${out}[${k}]` : out ? `${out}.${k}` : k), "");

/** CEL sees YAML's integers as int and its mappings as maps, as the apiserver does. */
function toCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(toCel);
  if (isRecord(value)) return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  return value as CelInput;
}

function zodProblems(error: z.ZodError, input: unknown, prefix: FieldPath): Problem[] {
  return error.issues.flatMap((issue): Problem[] => {
    const path = [...prefix, ...(issue.path as FieldPath)];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown field "${key}"` }));
    }
    if (issue.code === "invalid_type" && valueAt(input, issue.path as FieldPath) === undefined) {
      return [{ path, message: "required field is missing" }];
    }
    return [{ path, message: issue.message }];
  });
}

type RuleProgram = (bindings: { self: CelInput }) => unknown;
const celEnvironment = celEnv();
/** Rules come from the schemas, never from input, so this holds a few dozen programs. Compiling a
 * rule for each object took most of lint's time on an ordinary Rollout (~50 ms). */
const programs = new Map<string, RuleProgram>();
function programOf(rule: string): RuleProgram {
  let program = programs.get(rule);
  if (!program) {
    program = plan(celEnvironment, parse(rule)) as RuleProgram;
    programs.set(rule, program);
  }
  return program;
}

/** Unwraps optional/default/nullable wrappers, collecting the rules met on the way. */
function unwrap(schema: z.ZodType): { core: z.ZodType; rules: ReturnType<typeof rulesOf> } {
  const rules = [...rulesOf(schema)];
  let core = schema;
  while (core instanceof z.ZodOptional || core instanceof z.ZodDefault || core instanceof z.ZodNullable) {
    core = core.unwrap() as z.ZodType;
    rules.push(...rulesOf(core));
  }
  return { core, rules };
}

/** Runs each CEL rule on every subtree that is otherwise valid, with defaults applied, as the
 * apiserver does after defaulting. Invalid subtrees already have their zod problems. */
function celProblems(schema: z.ZodType, value: unknown, path: FieldPath): Problem[] {
  if (value === undefined || value === null) return [];
  const { core, rules } = unwrap(schema);
  const problems: Problem[] = [];
  if (rules.length) {
    const parsed = core.safeParse(value);
    if (parsed.success) {
      const self = toCel(parsed.data);
      for (const rule of rules) {
        let ok: unknown;
        try {
          ok = programOf(rule.rule)({ self });
        } catch (err) {
          ok = `rule ${rule.rule} failed: ${(err as Error).message}`;
        }
        if (ok !== true) {
          const at = rule.fieldPath ? [...path, ...rule.fieldPath.split(".").filter(Boolean)] : path;
          problems.push({ path: at, message: typeof ok === "string" ? ok : rule.message });
        }
      }
    }
  }
  if (core instanceof z.ZodObject && isRecord(value)) {
    for (const [key, child] of Object.entries(core.shape as Record<string, z.ZodType>)) {
      problems.push(...celProblems(child, value[key], [...path, key]));
    }
  } else if (core instanceof z.ZodArray && Array.isArray(value)) {
    value.forEach((item, i) => {
      problems.push(...celProblems(core.element as z.ZodType, item, [...path, i]));
    });
  } else if (core instanceof z.ZodRecord && isRecord(value)) {
    for (const [key, item] of Object.entries(value))
      problems.push(...celProblems(core.valueType as z.ZodType, item, [...path, key]));
  }
  return problems;
}

// The apiserver's limits on ObjectMeta (apimachinery's ValidateObjectMeta): a custom object's name
// is a DNS subdomain, its namespace a DNS label, label keys qualified names with values of at most
// 63 characters, and annotations at most 256 KiB in all. Every pattern here is linear.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const [prefix, name] = slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
    return "key prefix must be a DNS subdomain of at most 253 characters";
  if (name.length > 63 || !QUALIFIED_NAME.test(name))
    return "key must be at most 63 characters: letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

function metadataProblems(metadata: unknown): Problem[] {
  if (!isRecord(metadata)) return [];
  const problems: Problem[] = [];
  const { name, namespace, labels, annotations } = metadata;
  if (typeof name === "string" && name && (name.length > 253 || !DNS_SUBDOMAIN.test(name)))
    problems.push({
      path: ["metadata", "name"],
      message: "must be a DNS subdomain of at most 253 characters (a-z, 0-9, '-', '.')",
    });
  if (typeof namespace === "string" && (namespace.length > 63 || !DNS_LABEL.test(namespace)))
    problems.push({ path: ["metadata", "namespace"], message: "must be a DNS label of at most 63 characters (a-z, 0-9, '-')" });
  if (isRecord(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) problems.push({ path: ["metadata", "labels", key], message: keyProblem });
      if (typeof value === "string" && value && (value.length > 63 || !QUALIFIED_NAME.test(value)))
        problems.push({
          path: ["metadata", "labels", key],
          message:
            "label value must be at most 63 characters: letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        });
    }
  }
  if (isRecord(annotations)) {
    let bytes = 0;
    for (const [key, value] of Object.entries(annotations)) {
      const keyProblem = qualifiedNameProblem(key);
      if (keyProblem) problems.push({ path: ["metadata", "annotations", key], message: keyProblem });
      bytes += key.length + (typeof value === "string" ? value.length : 0);
    }
    if (bytes > MAX_ANNOTATIONS_BYTES)
      problems.push({
        path: ["metadata", "annotations"],
        message: `may hold at most ${MAX_ANNOTATIONS_BYTES} bytes in all, has ${bytes}`,
      });
  }
  return problems;
}

/** Validates one parsed document. Objects of other API groups are skipped, not judged. */
export function validateObject(doc: unknown): Validation {
  if (!isRecord(doc))
    return {
      status: "checked",
      kind: "?",
      name: "?",
      problems: [{ path: [], message: "a Kubernetes object must be a mapping" }],
    };
  const apiVersion = typeof doc.apiVersion === "string" ? doc.apiVersion : undefined;
  const kind = typeof doc.kind === "string" ? doc.kind : undefined;
  const name = isRecord(doc.metadata) && typeof doc.metadata.name === "string" ? doc.metadata.name : "?";
  const header: Problem[] = [];
  if (!apiVersion) header.push({ path: ["apiVersion"], message: "required field is missing" });
  if (!kind) header.push({ path: ["kind"], message: "required field is missing" });
  if (!apiVersion || !kind) return { status: "checked", kind: kind ?? "?", name, problems: header };
  if (!apiVersion.startsWith(`${GROUP}/`))
    return { status: "skipped", note: `not a Ramp object (${apiVersion} ${kind}/${name})` };
  if (apiVersion !== API_VERSION) {
    return {
      status: "checked",
      kind,
      name,
      problems: [{ path: ["apiVersion"], message: `unsupported version "${apiVersion}"; expected ${API_VERSION}` }],
    };
  }
  const def = kindByName(kind);
  if (!def) {
    const known = KINDS.map((k) => k.kind).join(", ");
    return {
      status: "checked",
      kind,
      name,
      problems: [{ path: ["kind"], message: `unknown kind "${kind}"; expected one of ${known}` }],
    };
  }
  const problems: Problem[] = [];
  if (name === "?") problems.push({ path: ["metadata", "name"], message: "required field is missing" });
  if (def.scope === "Cluster" && isRecord(doc.metadata) && doc.metadata.namespace !== undefined) {
    problems.push({ path: ["metadata", "namespace"], message: `${kind} is cluster-scoped and takes no namespace` });
  }
  const parsed = def.object.safeParse(doc);
  if (!parsed.success) problems.push(...zodProblems(parsed.error, doc, []));
  problems.push(...celProblems(def.spec, doc.spec, ["spec"]));
  problems.push(...metadataProblems(doc.metadata));
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${formatPath(p.path)}\n${p.message}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
  return { status: "checked", kind, name, problems: unique };
}
