// The NGINX Ingress router: for each of the user's Ingresses, read it (never written) and write the
// canary Ingress that ingress.ts derives from it.
import { ownerReference } from "../../api/owner-reference.ts";
import { type ObjectRef, readObject, upsertObject } from "../objects.ts";
import type { RouterFactory } from "../router.ts";
import { type CanaryConfig, canaryIngressName, desiredCanaryIngress, type Ingress } from "./ingress.ts";

const ingressRef = (name: string, namespace: string): ObjectRef => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  name,
  namespace,
});

export const nginxRouter: RouterFactory = (ctx) => {
  const { rollout, canary } = ctx;
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
  return {
    name: "nginx",
    sync: async (desired) => {
      for (const pair of pairs) {
        const stable = await readObject<Ingress>(ctx, pair.stable);
        await upsertObject<Ingress>(ctx, pair.canary, (existing) =>
          desiredCanaryIngress(stable, existing, pair.canary.name, canaryConfig, desired),
        );
      }
    },
    // ingress-nginx reports no verdict on a canary Ingress.
    verify: async () => undefined,
  };
};
