// Building blocks for the API schemas. Each carries what the CRD generator and `ramp lint` need:
// descriptions, int-or-string markers and CEL rules. Rules are written once, in CEL, and run both
// by the apiserver (x-kubernetes-validations) and offline by `ramp lint`.
import { z } from "zod";
import { formatDuration, GO_DURATION, MAX_DURATION_SECONDS, parseDuration } from "./duration.ts";
import { API_VERSION } from "./group.ts";

/** A cross-field rule in CEL; `self` is the object the rule sits on. */
export interface CelRule {
  rule: string;
  message: string;
  /** Where the problem is, relative to the object, e.g. `.canary`: reported instead of the object. */
  fieldPath?: string;
}

/** Metadata keys the generator and the linter read from zod's global registry. */
export interface RampMeta {
  maxProperties?: number;
  "x-kubernetes-list-type"?: "map" | "set" | "atomic";
  "x-kubernetes-list-map-keys"?: string[];
  rules?: CelRule[];
  /** Marks a union of an integer and a string as `x-kubernetes-int-or-string`; the text is the
   * message of the CEL rule that checks it, since the apiserver checks no pattern there. */
  intOrString?: string;
}

declare module "zod" {
  interface GlobalMeta extends RampMeta {}
}

/** A rule that exactly one of `fields` is set. The apiserver types objects, so CEL's size() does
 * not apply to them; the fields are named instead. */
export const exactlyOne = (fields: readonly string[], message?: string): CelRule => ({
  rule: `[${fields.map((f) => `has(self.${f})`).join(", ")}].exists_one(x, x)`,
  message: message ?? `set exactly one of ${fields.slice(0, -1).join(", ")} or ${fields.at(-1)}`,
});

export const rulesOf = (schema: z.ZodType): CelRule[] => z.globalRegistry.get(schema)?.rules ?? [];

/** Bounds the string so the apiserver can bound the cost of the CEL rule that checks its form. */
const MAX_INT_OR_STRING = 32;

/** Whole non-negative number or a string of a given form: `x-kubernetes-int-or-string` in the CRD. */
const intOrString = (pattern: RegExp, message: string, description: string) =>
  z
    .union([z.int().min(0, message), z.string().max(MAX_INT_OR_STRING, message).regex(pattern, message)], { error: message })
    .meta({ intOrString: message })
    .describe(description);

/** A duration of at most `maxSeconds`: a Go-style string or whole seconds. The maximum is in the
 * CRD as the integer's bound and a CEL rule on the string (CEL's duration() reads Go's syntax), and
 * in zod through the one parser, so the planners never meet a duration past it. */
export const duration = (description: string, maxSeconds = MAX_DURATION_SECONDS, minSeconds = 0) => {
  const max = formatDuration(maxSeconds * 1000);
  const min = formatDuration(minSeconds * 1000);
  const bounds = minSeconds > 0 ? `at least ${min} and at most ${max}` : `at most ${max}`;
  const message = `must be a duration like 30s, 5m or 1h30m, or whole seconds, ${bounds}`;
  const atLeast = (v: string) => {
    const parsed = parseDuration(v, maxSeconds * 1000);
    return parsed.ok && parsed.ms >= minSeconds * 1000;
  };
  // A floor keeps what the duration paces (a recheck, say) from becoming a hot loop.
  const upTo = `duration(self) <= duration('${max}')`;
  const within = minSeconds > 0 ? `(${upTo} && duration(self) >= duration('${min}'))` : upTo;
  return z
    .union(
      [
        z.int().min(minSeconds, message).max(maxSeconds, message),
        z.string().max(MAX_INT_OR_STRING, message).regex(GO_DURATION, message).refine(atLeast, message),
      ],
      { error: message },
    )
    .meta({
      intOrString: message,
      rules: [{ rule: `type(self) != string || ${within}`, message }],
    })
    .describe(`${description}; ${bounds}`);
};

/** Whole seconds of a delay, at most `maxSeconds` (so planner arithmetic stays exact). */
export const seconds = (description: string, min = 0, maxSeconds = MAX_DURATION_SECONDS) =>
  z.int().min(min).max(maxSeconds).describe(`${description}; at most ${maxSeconds}`);

/** A count or a percentage of some total, as in a Deployment's maxSurge. */
export const intOrPercent = (description: string) =>
  intOrString(/^[0-9]+%$/, 'must be a whole number or a percentage like "25%"', description);

/** A DNS-1123 name of a Kubernetes object (Service, template, route...). */
export const objectName = (description: string) =>
  z
    .string()
    .min(1, "must not be empty")
    .max(253, "must be at most 253 characters")
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lowercase DNS name (a-z, 0-9, '-', '.')")
    .describe(description);

/** A map with at most `max` entries, so the apiserver can bound the cost of rules over it. */
export const boundedRecord = <V extends z.ZodType>(value: V, max: number, description: string) =>
  z
    .record(z.string().max(317), value)
    .refine((m) => Object.keys(m).length <= max, `must have at most ${max} entries`)
    .meta({ maxProperties: max })
    .describe(description);

export const labelMap = (description: string) => boundedRecord(z.string().max(63), 64, description);

/** A list of objects keyed by `name`: the apiserver enforces unique names (listType map) at no
 * CEL cost, and zod does the same for `ramp lint`. */
export const namedList = <T extends z.ZodObject<{ name: z.ZodType }>>(item: T, max: number, what: string) =>
  z
    .array(item)
    .max(max)
    .refine(
      (items) => new Set(items.map((i) => (i as { name: unknown }).name)).size === items.length,
      `${what} names must be unique`,
    )
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] });

/** Kubernetes metav1.Condition-like entry, as Argo Rollouts reports them. */
export const condition = <T extends string>(types: readonly [T, ...T[]]) =>
  z.strictObject({
    type: z.enum(types).describe("Kind of condition"),
    status: z.enum(["True", "False", "Unknown"]),
    reason: z.string().optional().describe("Machine-readable reason in CamelCase"),
    message: z.string().optional().describe("Human-readable detail"),
    lastTransitionTime: z.string().optional().describe("When the status last changed (RFC 3339)"),
    lastUpdateTime: z.string().optional().describe("When the condition was last written (RFC 3339)"),
    observedGeneration: z.int().optional().describe("The metadata.generation the condition was computed from"),
  });

/** metadata as a user writes it; the apiserver owns the rest, so unknown keys are kept. */
export const objectMeta = z.looseObject({
  name: z.string().min(1, "must not be empty").optional(),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export { API_VERSION };

/** A whole object of one of Ramp's kinds. */
export const kindObject = <S extends z.ZodType, T extends z.ZodType>(kind: string, spec: S, status?: T) =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    ...(status ? { status: status.optional() } : {}),
  });
