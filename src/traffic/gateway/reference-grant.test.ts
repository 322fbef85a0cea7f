import { describe, expect, it } from "vitest";
import type { RouteKind } from "./httproute.ts";
import { type ReferenceGrant, routeGranted } from "./reference-grant.ts";

const grant = (from: NonNullable<ReferenceGrant["spec"]>["from"], to: NonNullable<ReferenceGrant["spec"]>["to"]) =>
  ({
    apiVersion: "gateway.networking.k8s.io/v1beta1",
    kind: "ReferenceGrant",
    metadata: { name: "g" },
    spec: { from, to },
  }) as ReferenceGrant;
const fromShop = [{ group: "ramp.dev", kind: "Rollout", namespace: "shop" }];
const toRoutes = [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute" }];

describe("routeGranted", () => {
  it.each([
    { name: "no grant", grants: [], granted: false },
    { name: "a grant to every HTTPRoute", grants: [grant(fromShop, toRoutes)], granted: true },
    { name: "a grant to this route", grants: [grant(fromShop, [{ ...toRoutes[0], name: "web" }])], granted: true },
    { name: "a grant to another route", grants: [grant(fromShop, [{ ...toRoutes[0], name: "other" }])], granted: false },
    { name: "from another namespace", grants: [grant([{ ...fromShop[0], namespace: "evil" }], toRoutes)], granted: false },
    { name: "from another kind", grants: [grant([{ ...fromShop[0], kind: "Deployment" }], toRoutes)], granted: false },
    { name: "from another group", grants: [grant([{ ...fromShop[0], group: "argoproj.io" }], toRoutes)], granted: false },
    { name: "to another kind", grants: [grant(fromShop, [{ group: "", kind: "Service" }])], granted: false },
    { name: "an empty spec", grants: [{ apiVersion: "v", kind: "ReferenceGrant" } as ReferenceGrant], granted: false },
    {
      name: "a GRPCRoute, by a grant to GRPCRoutes",
      kind: "GRPCRoute",
      grants: [grant(fromShop, [{ ...toRoutes[0], kind: "GRPCRoute" }])],
      granted: true,
    },
    {
      name: "a GRPCRoute, by a grant to HTTPRoutes only",
      kind: "GRPCRoute",
      grants: [grant(fromShop, toRoutes)],
      granted: false,
    },
  ] as { name: string; kind?: RouteKind; grants: ReferenceGrant[]; granted: boolean }[])(
    "$name: $granted",
    ({ kind, grants, granted }) => {
      expect(routeGranted(grants, "shop", { kind: kind ?? "HTTPRoute", name: "web" })).toBe(granted);
    },
  );
});
