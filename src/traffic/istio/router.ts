// The Istio router: in subset mode the DestinationRule's subsets first (so a weight never points at
// a subset that still selects other pods), then the VirtualService's http routes.
import type { KubeObject } from "../../kube/client.ts";
import { type ObjectRef, preferredVersion, updateObject } from "../objects.ts";
import type { RouterFactory } from "../router.ts";
import {
  type DestinationRuleSpec,
  desiredDestinationRule,
  desiredVirtualService,
  type Targets,
  type VirtualServiceSpec,
} from "./virtualservice.ts";

const GROUP = "networking.istio.io";

type VirtualService = KubeObject & { spec?: VirtualServiceSpec };
type DestinationRule = KubeObject & { spec?: DestinationRuleSpec };

export const istioRouter: RouterFactory = (ctx) => {
  const { rollout, canary } = ctx;
  const config = canary.trafficRouting?.istio;
  const vs = config?.virtualService ?? { name: "" };
  const dr = config?.destinationRule;
  const targets: Targets = dr
    ? { mode: "subset", stable: dr.stableSubsetName, canary: dr.canarySubsetName }
    : { mode: "host", stable: canary.stableService ?? "", canary: canary.canaryService ?? "" };
  const ref = async (kind: string, name: string): Promise<ObjectRef> => ({
    apiVersion: await preferredVersion(ctx.client, GROUP, kind),
    kind,
    name,
    namespace: rollout.namespace,
  });
  const vsConfig = { name: vs.name, targets, ...(vs.routes ? { routes: vs.routes } : {}) };
  return {
    name: "istio",
    sync: async (desired) => {
      if (dr) {
        await updateObject<DestinationRule>(ctx, await ref("DestinationRule", dr.name), (o) => ({
          ...o,
          spec: desiredDestinationRule(o.spec ?? {}, targets, desired),
        }));
      }
      await updateObject<VirtualService>(ctx, await ref("VirtualService", vs.name), (o) => ({
        ...o,
        spec: desiredVirtualService(o.spec ?? {}, vsConfig, desired),
      }));
    },
    // Istio reports no verdict on a VirtualService.
    verify: async () => undefined,
  };
};
