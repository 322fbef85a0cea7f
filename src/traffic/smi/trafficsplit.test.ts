import { describe, expect, it } from "vitest";
import { desired, rolloutOwner } from "../fixtures.ts";
import { desiredTrafficSplit, type SplitConfig, type TrafficSplit } from "./trafficsplit.ts";

const owner = rolloutOwner;
const config: SplitConfig = {
  apiVersion: "split.smi-spec.io/v1alpha4",
  name: "web",
  namespace: "shop",
  rootService: "web",
  services: { stable: "web-stable", canary: "web-canary" },
  owner,
};
const backends = (canary: number) => [
  { service: "web-canary", weight: canary },
  { service: "web-stable", weight: 100 - canary },
];
const existing: TrafficSplit = {
  apiVersion: "split.smi-spec.io/v1alpha2",
  kind: "TrafficSplit",
  metadata: { name: "web", namespace: "shop", labels: { team: "shop" }, resourceVersion: "3" },
  spec: { service: "old-root", backends: [{ service: "v0", weight: 100 }], matches: [{ kind: "HTTPRouteGroup", name: "api" }] },
};

describe("desiredTrafficSplit", () => {
  it.each([
    {
      name: "creates one owned by the Rollout",
      existing: undefined,
      want: {
        apiVersion: "split.smi-spec.io/v1alpha4",
        kind: "TrafficSplit",
        metadata: { name: "web", namespace: "shop", ownerReferences: [owner] },
        spec: { service: "web", backends: backends(25) },
      },
    },
    {
      name: "an existing one keeps its version, metadata and other fields; root and backends are Ramp's",
      existing,
      want: { ...existing, spec: { service: "web", backends: backends(25), matches: [{ kind: "HTTPRouteGroup", name: "api" }] } },
    },
  ])("$name", ({ existing, want }) => {
    expect(desiredTrafficSplit(existing, config, desired(25))).toEqual(want);
  });

  it.each([
    {
      name: "a header route",
      extra: { headerRoutes: [{ name: "beta", match: [{ headerName: "x", headerValue: { exact: "1" } }] }] },
      route: "beta",
    },
    {
      name: "a mirror route",
      extra: { mirrorRoutes: [{ name: "shadow", percentage: 5, match: [{ path: { prefix: "/" } }] }] },
      route: "shadow",
    },
  ])("refuses $name", ({ extra, route }) => {
    expect(() => desiredTrafficSplit(undefined, config, desired(0, extra))).toThrow(
      `the SMI router splits by weight only; it cannot add the managed route "${route}"`,
    );
  });
});
