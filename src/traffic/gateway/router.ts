// The Gateway API router: each named HTTPRoute gets what httproute.ts says, written over the
// version read (see ../objects.ts).
import type { KubeObject } from "../../kube/client.ts";
import { type ObjectRef, readObject, updateObject } from "../objects.ts";
import type { RouterFactory } from "../router.ts";
import { syncedRouter } from "../synced.ts";
import { accepted, desiredSpec, type HTTPRouteSpec, type RouteStatus, withoutManagedRules } from "./httproute.ts";

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
  const each = async (change: (route: HTTPRoute) => HTTPRoute) => {
    for (const ref of refs) await updateObject<HTTPRoute>(client, ref, change);
  };
  return syncedRouter({
    name: "gatewayAPI",
    sync: (desired) => each((r) => ({ ...r, spec: desiredSpec(r.spec ?? {}, services, desired, r.metadata.name ?? "") })),
    removeManaged: () => each((r) => ({ ...r, spec: withoutManagedRules(r.spec ?? {}) })),
    verify: async () => {
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
