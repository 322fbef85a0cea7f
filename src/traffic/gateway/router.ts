// The Gateway API router: each named HTTPRoute gets what httproute.ts says, written over the
// version read (see ../objects.ts).
import { type KubeClient, KubeError, type KubeObject } from "../../kube/client.ts";
import { type ObjectRef, readObject, updateObject } from "../objects.ts";
import { RouterError, type RouterFactory } from "../router.ts";
import { syncedRouter } from "../synced.ts";
import { accepted, desiredSpec, type HTTPRouteSpec, type RouteStatus, withoutManagedRules } from "./httproute.ts";
import { missingGrantMessage, REFERENCE_GRANT_API_VERSION, type ReferenceGrant, routeGranted } from "./reference-grant.ts";

type HTTPRoute = KubeObject & { metadata: { generation?: number }; spec?: HTTPRouteSpec; status?: RouteStatus };

export const gatewayRouter: RouterFactory = ({ client, rollout, canary }) => {
  const config = canary.trafficRouting?.gatewayAPI;
  const namespace = config?.namespace ?? rollout.namespace;
  const names = config?.httpRoute ? [config.httpRoute] : (config?.httpRoutes ?? []).map((r) => r.name);
  const refs: ObjectRef[] = names.map((name) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    name,
    namespace,
  }));
  const services = { stable: canary.stableService ?? "", canary: canary.canaryService ?? "" };
  // Read before every use, never cached: a grant withdrawn is honoured on the next reconcile.
  const granted = () => (namespace === rollout.namespace ? Promise.resolve() : checkGrants(client, rollout.namespace, refs));
  const each = async (change: (route: HTTPRoute) => HTTPRoute) => {
    await granted();
    for (const ref of refs) await updateObject<HTTPRoute>(client, ref, change);
  };
  return syncedRouter({
    name: "gatewayAPI",
    sync: (desired) => each((r) => ({ ...r, spec: desiredSpec(r.spec ?? {}, services, desired, r.metadata.name ?? "") })),
    removeManaged: () => each((r) => ({ ...r, spec: withoutManagedRules(r.spec ?? {}) })),
    verify: async () => {
      await granted();
      const verdicts = await Promise.all(
        refs.map(async (ref) => {
          const route = await readObject<HTTPRoute>(client, ref);
          return accepted(route.status, route.metadata.generation);
        }),
      );
      if (verdicts.includes(false)) return false;
      return verdicts.every((v) => v === true) ? true : undefined;
    },
  });
};

/** Refuses (NOT_GRANTED) unless a ReferenceGrant in the routes' namespace lets Rollouts of
 * `fromNamespace` change each of them. A cluster without the ReferenceGrant kind grants nothing. */
async function checkGrants(client: KubeClient, fromNamespace: string, refs: ObjectRef[]): Promise<void> {
  for (const ref of refs) {
    let grants: ReferenceGrant[] = [];
    try {
      grants = await client.list<ReferenceGrant>(REFERENCE_GRANT_API_VERSION, "ReferenceGrant", ref.namespace);
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 404)) throw err;
    }
    if (!routeGranted(grants, fromNamespace, ref.name)) {
      throw new RouterError("NOT_GRANTED", missingGrantMessage(fromNamespace, ref.namespace, ref.name));
    }
  }
}
