// Pure: the SMI TrafficSplit Ramp keeps: the root Service's traffic split between the canary and
// stable Services by weight. Ramp creates it (owned by the Rollout) when it does not exist; an
// existing one keeps everything but its root service and backends.

import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import type { OwnerReference } from "../../api/owner-reference.ts";
import type { KubeObject } from "../../kube/client.ts";
import { RouterError } from "../router.ts";

export type TrafficSplit = KubeObject & {
  metadata: { ownerReferences?: OwnerReference[] };
  spec?: { service?: string; backends?: { service: string; weight: number }[]; [key: string]: unknown };
};

export interface SplitConfig {
  apiVersion: string;
  name: string;
  namespace: string;
  rootService: string;
  services: { stable: string; canary: string };
  owner: OwnerReference;
}

export function desiredTrafficSplit(
  existing: TrafficSplit | undefined,
  config: SplitConfig,
  desired: DesiredTraffic,
): TrafficSplit {
  const route = desired.headerRoutes[0] ?? desired.mirrorRoutes[0];
  if (route) {
    throw new RouterError("UNSUPPORTED", `the SMI router splits by weight only; it cannot add the managed route "${route.name}"`);
  }
  const spec = {
    ...existing?.spec,
    service: config.rootService,
    backends: [
      { service: config.services.canary, weight: desired.weight },
      { service: config.services.stable, weight: 100 - desired.weight },
    ],
  };
  return existing
    ? { ...existing, spec }
    : {
        apiVersion: config.apiVersion,
        kind: "TrafficSplit",
        metadata: { name: config.name, namespace: config.namespace, ownerReferences: [config.owner] },
        spec,
      };
}
