// The NGINX Ingress router: for each of the user's Ingresses, read it (never written) and write the
// canary Ingress that ingress.ts derives from it.
import { ownerReference } from "../../api/owner-reference.ts";
import { type ObjectRef, readObject, updateObject, upsertObject } from "../objects.ts";
import { RouterError, type RouterFactory } from "../router.ts";
import { syncedRouter } from "../synced.ts";
import { type CanaryConfig, canaryIngressName, desiredCanaryIngress, type Ingress, withoutHeaderRoute } from "./ingress.ts";

const ingressRef = (name: string, namespace: string): ObjectRef => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  name,
  namespace,
});

export const nginxRouter: RouterFactory = ({ client, rollout, canary }) => {
  const config = canary.trafficRouting?.nginx;
  const stableNames = config?.stableIngress ? [config.stableIngress] : (config?.stableIngresses ?? []);
  const prefix = config?.annotationPrefix ?? "nginx.ingress.kubernetes.io";
  const canaryConfig: CanaryConfig = {
    annotationPrefix: prefix,
    ...(config?.additionalIngressAnnotations ? { additionalAnnotations: config.additionalIngressAnnotations } : {}),
    services: { stable: canary.stableService ?? "", canary: canary.canaryService ?? "" },
    owner: ownerReference({ metadata: rollout }),
  };
  const pairs = stableNames.map((name) => ({
    stable: ingressRef(name, rollout.namespace),
    canary: ingressRef(canaryIngressName(rollout.name, name), rollout.namespace),
  }));
  return syncedRouter({
    name: "nginx",
    sync: async (desired) => {
      for (const pair of pairs) {
        const stable = await readObject<Ingress>(client, pair.stable);
        await upsertObject<Ingress>(client, pair.canary, (existing) =>
          desiredCanaryIngress(stable, existing, pair.canary.name, canaryConfig, desired),
        );
      }
    },
    removeManaged: async () => {
      for (const pair of pairs) {
        try {
          await updateObject<Ingress>(client, pair.canary, (c) => withoutHeaderRoute(c, prefix));
        } catch (err) {
          if (!(err instanceof RouterError && err.code === "NOT_FOUND")) throw err;
        }
      }
    },
  });
};
