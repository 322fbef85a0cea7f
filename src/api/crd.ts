// Pure: zod schemas -> CustomResourceDefinitions with structural OpenAPI v3 schemas that a real
// kube-apiserver accepts: no unions, no `additionalProperties: false`, int-or-string marked,
// descriptions kept, CEL rules as x-kubernetes-validations.
import { z } from "zod";
import { API_VERSION, GROUP, KINDS, type KindDef, VERSION } from "./kinds.ts";
import type { CelRule } from "./schema-kit.ts";

type JsonSchema = { [key: string]: unknown };

const isSchema = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

/** zod bounds every int to the safe range; only tighter bounds mean something. */
const isRealBound = (v: unknown): v is number => typeof v === "number" && Math.abs(v) < Number.MAX_SAFE_INTEGER;

/** The CEL twin of an int-or-string union's bounds, since the apiserver checks no pattern there. */
function intOrStringRule(branches: JsonSchema[], message: string): CelRule {
  const int = branches.find((b) => b.type === "integer") ?? {};
  const str = branches.find((b) => b.type === "string") ?? {};
  const intChecks = [
    isRealBound(int.minimum) ? `self >= ${int.minimum}` : "",
    isRealBound(int.maximum) ? `self <= ${int.maximum}` : "",
  ].filter(Boolean);
  const intRule = intChecks.length ? intChecks.join(" && ") : "true";
  const strRule = typeof str.pattern === "string" ? `self.matches(${JSON.stringify(str.pattern)})` : "true";
  return { rule: `type(self) == string ? ${strRule} : ${intRule}`, message };
}

function toCelValidations(rules: CelRule[]) {
  return rules.map((r) => ({ rule: r.rule, message: r.message, ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}) }));
}

/** Rewrites zod's OpenAPI 3.0 output into a structural schema; throws naming the path of anything
 * the apiserver would refuse, so a schema change cannot silently produce a bad CRD. */
export function toStructural(node: JsonSchema, path = "$"): JsonSchema {
  const out: JsonSchema = {};
  const rules: CelRule[] = [...((node.rules as CelRule[] | undefined) ?? [])];
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "$schema":
      case "rules":
      case "intOrString":
        break;
      case "anyOf":
        if (!node.intOrString)
          throw new Error(`${path}: unions cannot be structural; use intOrString or separate optional fields`);
        out["x-kubernetes-int-or-string"] = true;
        rules.push(intOrStringRule(value as JsonSchema[], String(node.intOrString)));
        // The bound lets the apiserver bound the cost of the rule's regex.
        for (const branch of value as JsonSchema[]) if (branch.maxLength !== undefined) out.maxLength = branch.maxLength;
        break;
      case "oneOf":
      case "allOf":
      case "not":
      case "$ref":
        throw new Error(`${path}: ${key} is not allowed in a structural schema`);
      case "additionalProperties":
        if (value === false) break;
        if (isSchema(value) && Object.keys(value).length === 0) out["x-kubernetes-preserve-unknown-fields"] = true;
        else out.additionalProperties = toStructural(value as JsonSchema, `${path}.*`);
        break;
      case "properties":
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v, `${path}.${k}`)]),
        );
        break;
      case "items":
        out.items = toStructural(value as JsonSchema, `${path}[]`);
        break;
      case "minimum":
      case "maximum":
        if (isRealBound(value)) out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }
  if (out.type === undefined && !out["x-kubernetes-int-or-string"] && !out["x-kubernetes-preserve-unknown-fields"]) {
    throw new Error(`${path}: every field needs a type`);
  }
  if (rules.length) out["x-kubernetes-validations"] = toCelValidations(rules);
  return out;
}

export function openApiSchema(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", reused: "inline" }) as JsonSchema);
}

export function crdFor(def: KindDef) {
  const properties: JsonSchema = {
    apiVersion: { type: "string", description: `${API_VERSION}` },
    kind: { type: "string", description: def.kind },
    metadata: { type: "object" },
    spec: openApiSchema(def.spec),
  };
  if (def.status) properties.status = openApiSchema(def.status);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}`, labels: { "app.kubernetes.io/part-of": "ramp" } },
    spec: {
      group: GROUP,
      scope: def.scope,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ["ramp"],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: "object", description: def.description, required: ["spec"], properties } },
          subresources: { status: {}, ...(def.scale ? { scale: def.scale } : {}) },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

export const allCrds = () => KINDS.map((def) => ({ file: `${def.plural}.${GROUP}.yaml`, crd: crdFor(def) }));
