// Pure: whether the Gateway API ReferenceGrants of a namespace let a Rollout of another namespace
// change a route there. A tenant names routes by namespace; only the route's own namespace can say
// yes (gateway.networking.k8s.io/v1beta1 ReferenceGrant: from Rollout.ramp.dev, to HTTPRoute or
// GRPCRoute).
import type { KubeObject } from "../../kube/client.ts";
import type { RouteRef } from "./httproute.ts";

export const REFERENCE_GRANT_API_VERSION = "gateway.networking.k8s.io/v1beta1";

export type ReferenceGrant = KubeObject & {
  spec?: {
    from?: { group?: string; kind?: string; namespace?: string }[];
    to?: { group?: string; kind?: string; name?: string }[];
  };
};

/** True when a grant lets Rollouts of `fromNamespace` reach the route (a `to` without a name covers
 * every route of that kind in the namespace, as in Gateway API). */
export function routeGranted(grants: ReferenceGrant[], fromNamespace: string, route: RouteRef): boolean {
  return grants.some(
    (g) =>
      (g.spec?.from ?? []).some((f) => f.group === "ramp.dev" && f.kind === "Rollout" && f.namespace === fromNamespace) &&
      (g.spec?.to ?? []).some(
        (t) =>
          t.group === "gateway.networking.k8s.io" && t.kind === route.kind && (t.name === undefined || t.name === route.name),
      ),
  );
}

/** The refusal, naming the route and the grant that would allow it. */
export function missingGrantMessage(fromNamespace: string, routeNamespace: string, route: RouteRef): string {
  return (
    `${route.kind} "${route.name}" is in namespace "${routeNamespace}", not the Rollout's ("${fromNamespace}"), and no ` +
    `ReferenceGrant in "${routeNamespace}" allows it (from: group ramp.dev, kind Rollout, namespace "${fromNamespace}"; ` +
    `to: group gateway.networking.k8s.io, kind ${route.kind})`
  );
}
