import { readdirSync, readFileSync } from "node:fs";
import { parse } from "@bufbuild/cel";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { allCrds, openApiSchema, toStructural } from "./crd.ts";
import { CRD_DIRS, renderCrds } from "./crd-files.ts";
import { KINDS } from "./kinds.ts";
import { renderReference } from "./reference.ts";

const crdDir = new URL("../../crds/", import.meta.url);
const repo = new URL("../../", import.meta.url);

/** Every schema node of a CRD, with its path. */
function* nodes(schema: Record<string, unknown>, path = "$"): Generator<[string, Record<string, unknown>]> {
  yield [path, schema];
  for (const [k, v] of Object.entries((schema.properties as Record<string, Record<string, unknown>>) ?? {}))
    yield* nodes(v, `${path}.${k}`);
  if (schema.items) yield* nodes(schema.items as Record<string, unknown>, `${path}[]`);
  if (typeof schema.additionalProperties === "object")
    yield* nodes(schema.additionalProperties as Record<string, unknown>, `${path}.*`);
}

describe("crds/", () => {
  it.each(CRD_DIRS)("%s matches the zod schemas (run `npm run gen:crds` after changing src/api)", (folder) => {
    const dir = new URL(folder, repo);
    const committed = readdirSync(dir).sort();
    const rendered = renderCrds();
    expect(committed).toEqual(rendered.map((r) => r.file).sort());
    for (const { file, text } of rendered) expect(readFileSync(new URL(file, dir), "utf8"), `${folder}${file}`).toBe(text);
  });

  it.each(readdirSync(crdDir))("%s is structural: no oneOf, anyOf or additionalProperties: false", (file) => {
    const text = readFileSync(new URL(file, crdDir), "utf8");
    expect(text).not.toMatch(/\b(oneOf|anyOf|allOf):/);
    expect(text).not.toMatch(/additionalProperties: false/);
    const crd = parseYaml(text);
    for (const [path, node] of nodes(crd.spec.versions[0].schema.openAPIV3Schema)) {
      const typed = node.type || node["x-kubernetes-int-or-string"] || node["x-kubernetes-preserve-unknown-fields"];
      expect(typed, `${file} ${path} has no type`).toBeTruthy();
    }
  });

  it.each(allCrds())("$file: every CEL rule parses and has a message", ({ crd }) => {
    for (const [path, node] of nodes(crd.spec.versions[0]?.schema.openAPIV3Schema as Record<string, unknown>)) {
      for (const v of (node["x-kubernetes-validations"] as { rule: string; message: string }[]) ?? []) {
        expect(() => parse(v.rule), `${path}: ${v.rule}`).not.toThrow();
        expect(v.message.length, path).toBeGreaterThan(10);
      }
    }
  });

  it("keeps field descriptions", () => {
    const spec = openApiSchema(KINDS[0]!.spec) as { properties: Record<string, { description?: string }> };
    expect(spec.properties.replicas?.description).toBe("Desired pods");
  });

  it("gives every kind the status subresource and Rollout the scale subresource and printer columns", () => {
    for (const { crd } of allCrds()) expect(crd.spec.versions[0]?.subresources.status).toEqual({});
    const rollout = allCrds().find((c) => c.crd.spec.names.kind === "Rollout")!.crd.spec.versions[0]!;
    expect(rollout.subresources).toMatchObject({
      scale: {
        specReplicasPath: ".spec.replicas",
        statusReplicasPath: ".status.replicas",
        labelSelectorPath: ".status.selector",
      },
    });
    expect(rollout.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Desired",
      "Current",
      "Up-to-date",
      "Available",
      "Phase",
      "Step",
      "Weight",
      "Age",
    ]);
    const run = allCrds().find((c) => c.crd.spec.names.kind === "AnalysisRun")!.crd.spec.versions[0]!;
    expect(run.additionalPrinterColumns.map((c) => c.name)).toEqual(["Phase", "Age"]);
  });

  it("marks int-or-string fields and checks them with CEL", () => {
    const schema = openApiSchema(z.object({ d: z.union([z.int(), z.string().regex(/^a$/)]).meta({ intOrString: "must be a" }) }));
    expect((schema.properties as Record<string, unknown>).d).toEqual({
      "x-kubernetes-int-or-string": true,
      "x-kubernetes-validations": [{ rule: 'type(self) == string ? self.matches("^a$") : true', message: "must be a" }],
    });
  });
});

describe("toStructural", () => {
  it.each([
    {
      name: "an unmarked union",
      schema: { type: "object", properties: { a: { anyOf: [{ type: "string" }, { type: "integer" }] } } },
      error: "$.a: unions cannot be structural",
    },
    { name: "oneOf", schema: { oneOf: [] }, error: "$: oneOf is not allowed" },
    { name: "a $ref", schema: { type: "object", properties: { a: { $ref: "#/x" } } }, error: "$.a: $ref is not allowed" },
    {
      name: "an untyped field",
      schema: { type: "object", properties: { a: { description: "x" } } },
      error: "$.a: every field needs a type",
    },
  ])("refuses $name, naming the path", ({ schema, error }) => {
    expect(() => toStructural(schema)).toThrow(error);
  });

  it("turns a loose object into preserve-unknown-fields and drops additionalProperties: false", () => {
    expect(toStructural({ type: "object", additionalProperties: {} })).toEqual({
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
    });
    expect(toStructural({ type: "object", additionalProperties: false })).toEqual({ type: "object" });
  });
});

describe("docs/api-reference.md", () => {
  it("matches the schemas (run `npm run gen:docs` after changing src/api)", () => {
    expect(readFileSync(new URL("../../docs/api-reference.md", import.meta.url), "utf8")).toBe(renderReference());
  });
});
