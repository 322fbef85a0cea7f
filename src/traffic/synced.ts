// Every router writes weights, header routes and mirror routes as one desired state, because they
// live in the same objects. The controller calls the seam once per part with the same state: the
// first call writes, the others find it written.
import { canonicalJson } from "../api/canonical-json.ts";
import type { DesiredTraffic } from "../api/desired-traffic.ts";
import type { TrafficRouter } from "./router.ts";

export interface RouterParts {
  name: string;
  /** Makes the router's objects route as desired, managed routes included (and no others). */
  sync(desired: DesiredTraffic): Promise<void>;
  /** Removes Ramp's managed routes only. */
  removeManaged(): Promise<void>;
  verify?(desired: DesiredTraffic): Promise<boolean | undefined>;
}

export function syncedRouter(parts: RouterParts): TrafficRouter {
  let written: { key: string; routes: number } | undefined;
  const sync = async (desired: DesiredTraffic) => {
    const key = canonicalJson(desired);
    if (written?.key === key) return;
    await parts.sync(desired);
    written = { key, routes: desired.headerRoutes.length + desired.mirrorRoutes.length };
  };
  return {
    name: parts.name,
    setWeight: sync,
    setHeaderRoutes: (headerRoutes, desired) => sync({ ...desired, headerRoutes }),
    setMirrorRoutes: (mirrorRoutes, desired) => sync({ ...desired, mirrorRoutes }),
    removeManagedRoutes: async () => {
      if (written?.routes === 0) return;
      await parts.removeManaged();
      written = undefined;
    },
    verify: async (desired) => (parts.verify ? parts.verify(desired) : undefined),
  };
}
