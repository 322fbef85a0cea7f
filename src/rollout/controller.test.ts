// The reconcile ladder on a fake apiserver, the controller running as it does in a process: a router
// that cannot be asked for its verdict neither stops the scaling nor hides the problem the planner
// reports.
import { afterEach, describe, expect, it, vi } from "vitest";
import { API_VERSION } from "../api/group.ts";
import { podTemplateHash } from "../api/pod-template-hash.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { FakeApiserver } from "../kube/fake-apiserver.ts";
import { OutboundDoor } from "../net/outbound.ts";
import { RolloutController } from "./controller.ts";
import { TRAFFIC_FINALIZER } from "./shell/context.ts";
import { gatewaySpec, KINDS, rolloutObject, spec } from "./shell/fixtures.ts";

const OUTBOUND = new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] });
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
    const controller = new RolloutController(apiserver.client(), { outbound: OUTBOUND });
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

describe("the controller's stop", () => {
  it("waits for the revision history under way, so no write is left half-done", async () => {
    const apiserver = await new FakeApiserver(KINDS).start();
    apiserver.put(rolloutObject(spec()));
    const client = apiserver.client();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const order: string[] = [];
    const historyClient = Object.assign(Object.create(client) as KubeClient, {
      create: async <T extends KubeObject>(obj: T): Promise<T> => {
        order.push("issued");
        await held;
        const written = await client.create(obj);
        order.push("written");
        return written;
      },
    });
    const controller = new RolloutController(client, { outbound: OUTBOUND, historyClient });
    try {
      await controller.start();
      await vi.waitFor(() => expect(order).toEqual(["issued"]), { timeout: 4_000, interval: 20 });
      const stopping = controller.stop().then(() => order.push("stopped"));
      // Let go once stop has had every chance to return without it.
      setTimeout(release, 200);
      await stopping;
      expect(order).toEqual(["issued", "written", "stopped"]);
      expect(apiserver.object("apps/v1", "ControllerRevision", `web-${podTemplateHash(spec().template)}`, "ns")).toBeDefined();
    } finally {
      release();
      await apiserver.stop();
    }
  });
});
