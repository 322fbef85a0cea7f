// The SMI router: one TrafficSplit, in the API version the cluster prefers.
import { ownerReference } from "../../api/owner-reference.ts";
import { preferredVersion, upsertObject } from "../objects.ts";
import type { RouterFactory } from "../router.ts";
import { desiredTrafficSplit, type TrafficSplit } from "./trafficsplit.ts";

export const smiRouter: RouterFactory = (ctx) => {
  const { rollout, canary } = ctx;
  const config = canary.trafficRouting?.smi;
  const name = config?.trafficSplitName ?? rollout.name;
  return {
    name: "smi",
    sync: async (desired) => {
      const apiVersion = await preferredVersion(ctx.client, "split.smi-spec.io", "TrafficSplit");
      const split = {
        apiVersion,
        name,
        namespace: rollout.namespace,
        rootService: config?.rootService ?? "",
        services: { stable: canary.stableService ?? "", canary: canary.canaryService ?? "" },
        owner: ownerReference({ metadata: rollout }),
      };
      await upsertObject<TrafficSplit>(ctx, { ...split, kind: "TrafficSplit" }, (existing) =>
        desiredTrafficSplit(existing, split, desired),
      );
    },
    verify: async () => undefined,
  };
};
