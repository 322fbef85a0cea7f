// The reconcile ladder on a fake apiserver, the controller running as it does in a process: a router
// that cannot be asked for its verdict neither stops the scaling nor hides the problem the planner
// reports.
import { afterEach, describe, expect, it, vi } from "vitest";
import { API_VERSION } from "../api/group.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import type { KubeObject } from "../kube/client.ts";
import { FakeApiserver } from "../kube/fake-apiserver.ts";
import { OutboundDoor } from "../net/outbound.ts";
import { RolloutController } from "./controller.ts";
import { TRAFFIC_FINALIZER } from "./shell/context.ts";
import { gatewaySpec, KINDS, rolloutObject } from "./shell/fixtures.ts";

const service = (name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "ns" },
  spec: {},
});
const condition = (apiserver: FakeApiserver, type: string) =>
  (apiserver.object<KubeObject & { status?: RolloutStatus }>(API_VERSION, "Rollout", "web", "ns")?.status?.conditions ?? []).find(
    (c) => c.type === type,
  );

describe("a reconcile whose router cannot be asked (its HTTPRoute does not exist)", () => {
  let running: { apiserver: FakeApiserver; controller: RolloutController } | undefined;
  const start = async (...objects: KubeObject[]) => {
    const apiserver = await new FakeApiserver(KINDS).start();
    apiserver.put(rolloutObject(gatewaySpec(), { finalizers: [TRAFFIC_FINALIZER] }), ...objects);
    const controller = new RolloutController(apiserver.client(), {
      outbound: new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] }),
    });
    running = { apiserver, controller };
    await controller.start();
    return apiserver;
  };
  afterEach(async () => {
    await running?.controller.stop();
    await running?.apiserver.stop();
    running = undefined;
  });

  it("still scales, then reports the router's failure (Progressing False, retried)", async () => {
    const apiserver = await start(service("web-stable"), service("web-canary"));
    await vi.waitFor(
      () => {
        const rs = apiserver.requests.find((r) => r.method === "POST" && r.path.endsWith("/replicasets"));
        expect(rs).toBeDefined();
        expect(condition(apiserver, "Progressing")).toMatchObject({
          status: "False",
          message: expect.stringMatching(/HTTPRoute "web" not found/),
        });
      },
      { timeout: 4_000, interval: 50 },
    );
  });

  it("reports the missing Service the planner finds (InvalidSpec), not the router's failure", async () => {
    const apiserver = await start(service("web-stable"));
    await vi.waitFor(
      () =>
        expect(condition(apiserver, "InvalidSpec")).toMatchObject({ status: "True", message: 'Service "web-canary" not found' }),
      { timeout: 4_000, interval: 50 },
    );
  });
});
