import { describe, expect, it } from "vitest";
import type { DesiredTraffic } from "../api/desired-traffic.ts";
import { desired } from "./fixtures.ts";
import { syncedRouter } from "./synced.ts";

const beta = { name: "beta", match: [{ headerName: "x", headerValue: { exact: "1" } }] };

/** The controller's sequence of calls for one reconcile, and what reached the router's parts. */
async function reconcile(d: DesiredTraffic, calls = 1): Promise<string[]> {
  const seen: string[] = [];
  const router = syncedRouter({
    name: "test",
    sync: async (x) => {
      seen.push(`sync ${x.weight} ${x.headerRoutes.length}`);
    },
    removeManaged: async () => {
      seen.push("remove");
    },
  });
  for (let i = 0; i < calls; i++) {
    await router.setWeight(d);
    await router.setHeaderRoutes(d.headerRoutes, d);
    await router.setMirrorRoutes(d.mirrorRoutes, d);
    if (!d.headerRoutes.length && !d.mirrorRoutes.length) await router.removeManagedRoutes();
  }
  expect(await router.verify(d)).toBeUndefined();
  return seen;
}

describe("syncedRouter", () => {
  it.each([
    { name: "writes one desired state once", d: desired(25, { headerRoutes: [beta] }), calls: 1, want: ["sync 25 1"] },
    { name: "without routes, nothing left to remove", d: desired(0), calls: 1, want: ["sync 0 0"] },
    { name: "the same state again writes nothing", d: desired(25), calls: 2, want: ["sync 25 0"] },
  ])("$name", async ({ d, calls, want }) => {
    expect(await reconcile(d, calls)).toEqual(want);
  });

  it("header routes passed explicitly take precedence, and removal without a write goes through", async () => {
    const seen: string[] = [];
    const router = syncedRouter({
      name: "test",
      sync: async (x) => {
        seen.push(`sync ${x.headerRoutes.map((r) => r.name).join(",")}`);
      },
      removeManaged: async () => {
        seen.push("remove");
      },
    });
    await router.setHeaderRoutes([beta], desired(10));
    await router.removeManagedRoutes();
    await router.removeManagedRoutes();
    expect(seen).toEqual(["sync beta", "remove", "remove"]);
  });
});
