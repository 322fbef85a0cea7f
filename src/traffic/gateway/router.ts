// The Gateway API router: each named HTTPRoute and GRPCRoute gets what httproute.ts says, written
// over the version read (see ../objects.ts).
import { KubeError, type KubeObject } from "../../kube/client.ts";
import type { ObjectReader } from "../../kube/object-caches.ts";
import { type ObjectRef, readObject, updateObject } from "../objects.ts";
import { RouterError, type RouterFactory } from "../router.ts";
import { accepted, desiredSpec, type HTTPRouteSpec, type RouteKind, type RouteStatus } from "./httproute.ts";
import { missingGrantMessage, REFERENCE_GRANT_API_VERSION, type ReferenceGrant, routeGranted } from "./reference-grant.ts";

type Route = KubeObject & { metadata: { generation?: number }; spec?: HTTPRouteSpec; status?: RouteStatus };
type RouteObjectRef = ObjectRef & { kind: RouteKind };

export const gatewayRouter: RouterFactory = (ctx) => {
  const { rollout, canary } = ctx;
  const config = canary.trafficRouting?.gatewayAPI;
  const namespace = config?.namespace ?? rollout.namespace;
  const named = (kind: RouteKind, names: string[]): RouteObjectRef[] =>
    names.map((name) => ({ apiVersion: "gateway.networking.k8s.io/v1", kind, name, namespace }));
  const refs = [
    ...named("HTTPRoute", config?.httpRoute ? [config.httpRoute] : (config?.httpRoutes ?? []).map((r) => r.name)),
    ...named(
      "GRPCRoute",
      (config?.grpcRoutes ?? []).map((r) => r.name),
    ),
  ];
  const services = { stable: canary.stableService ?? "", canary: canary.canaryService ?? "" };
  // Checked before every use: a grant withdrawn is honoured on the next reconcile.
  const granted = () => (namespace === rollout.namespace ? Promise.resolve() : checkGrants(ctx.objects, rollout.namespace, refs));
  const each = async (change: (route: Route, ref: RouteObjectRef) => Route) => {
    await granted();
    for (const ref of refs) await updateObject<Route>(ctx, ref, (r) => change(r, ref));
  };
  return {
    name: "gatewayAPI",
    sync: (desired) => each((r, ref) => ({ ...r, spec: desiredSpec(r.spec ?? {}, services, desired, ref) })),
    verify: async () => {
      await granted();
      const verdicts = await Promise.all(
        refs.map(async (ref) => {
          const route = await readObject<Route>(ctx, ref);
          return accepted(route.status, route.metadata.generation);
        }),
      );
      if (verdicts.includes(false)) return false;
      return verdicts.every((v) => v === true) ? true : undefined;
    },
  };
};

/** Refuses (NOT_GRANTED) unless a ReferenceGrant in the routes' namespace lets Rollouts of
 * `fromNamespace` change each of them. A cluster without the ReferenceGrant kind grants nothing. */
async function checkGrants(objects: ObjectReader, fromNamespace: string, refs: RouteObjectRef[]): Promise<void> {
  for (const ref of refs) {
    let grants: ReferenceGrant[] = [];
    try {
      grants = await objects.list<ReferenceGrant>(REFERENCE_GRANT_API_VERSION, "ReferenceGrant", ref.namespace);
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) throw err;
    }
    if (!routeGranted(grants, fromNamespace, ref)) {
      throw new RouterError("NOT_GRANTED", missingGrantMessage(fromNamespace, ref.namespace, ref));
    }
  }
}
