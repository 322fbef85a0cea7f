import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/client.ts";
import { asV1, ROUTING_CRDS, routingCrds } from "./routing-crds.ts";

const crd = (name: string, apiVersion = "apiextensions.k8s.io/v1", spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion,
  kind: "CustomResourceDefinition",
  metadata: { name },
  spec,
});

// The shape of smi-sdk-go v0.5.0's crds/split.yaml.
const smiSpec = {
  group: "split.smi-spec.io",
  scope: "Namespaced",
  names: { kind: "TrafficSplit", plural: "trafficsplits" },
  version: "v1alpha4",
  versions: [
    { name: "v1alpha4", served: true, storage: true },
    { name: "v1alpha3", served: false, storage: false },
  ],
  additionalPrinterColumns: [{ name: "Service", type: "string", JSONPath: ".spec.service" }],
  validation: { openAPIV3Schema: { properties: { spec: { type: "object" } } } },
};
const smiSchema = { openAPIV3Schema: { type: "object", properties: { spec: { type: "object" } } } };
const smiColumns = [{ name: "Service", type: "string", jsonPath: ".spec.service" }];

describe("asV1", () => {
  it.each([
    {
      name: "a v1 CRD is kept as it is",
      crd: crd("a", "apiextensions.k8s.io/v1", { versions: [] }),
      want: crd("a", "apiextensions.k8s.io/v1", { versions: [] }),
    },
    {
      name: "v1beta1: the shared schema and columns go into each version, the root typed as an object",
      crd: crd("trafficsplits.split.smi-spec.io", "apiextensions.k8s.io/v1beta1", smiSpec),
      want: crd("trafficsplits.split.smi-spec.io", "apiextensions.k8s.io/v1", {
        group: "split.smi-spec.io",
        scope: "Namespaced",
        names: { kind: "TrafficSplit", plural: "trafficsplits" },
        versions: [
          { name: "v1alpha4", served: true, storage: true, schema: smiSchema, additionalPrinterColumns: smiColumns },
          { name: "v1alpha3", served: false, storage: false, schema: smiSchema, additionalPrinterColumns: smiColumns },
        ],
      }),
    },
    {
      name: "v1beta1 with only `version` and subresources: one served, stored version",
      crd: crd("x", "apiextensions.k8s.io/v1beta1", { group: "g", version: "v1", subresources: { status: {} } }),
      want: crd("x", "apiextensions.k8s.io/v1", {
        group: "g",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object" } },
            subresources: { status: {} },
          },
        ],
      }),
    },
  ])("$name", ({ crd, want }) => {
    expect(asV1(crd)).toEqual(want);
  });

  it("refuses an apiVersion it does not know", () => {
    expect(() => asV1(crd("x", "apiextensions.k8s.io/v2"))).toThrow("CRD x: unknown apiVersion apiextensions.k8s.io/v2");
  });
});

describe("routingCrds", () => {
  const all = ROUTING_CRDS.map((n) => crd(n));
  it.each([
    {
      name: "picks the routing CRDs, in order, out of others",
      objects: [crd("gateways.networking.istio.io"), ...all.toReversed()],
      want: all,
    },
    {
      name: "the first of a name wins",
      objects: [...all, crd(ROUTING_CRDS[0], "apiextensions.k8s.io/v1", { dup: true })],
      want: all,
    },
  ])("$name", ({ objects, want }) => {
    expect(routingCrds(objects)).toEqual(want);
  });

  it("names a CRD the files do not have", () => {
    expect(() => routingCrds(all.slice(1))).toThrow(
      `the upstream CRD files have no CustomResourceDefinition "${ROUTING_CRDS[0]}"`,
    );
  });
});
