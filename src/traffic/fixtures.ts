// Builders the router tables share (test-only).
import type { DesiredTraffic } from "./router.ts";

/** What the planner asks of a router: `weight`% to revision "new", the rest to "old", no managed routes. */
export const desired = (weight: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic => ({
  weight,
  canaryHash: "new",
  stableHash: "old",
  headerRoutes: [],
  mirrorRoutes: [],
  ...extra,
});
