// The controller set on a fake apiserver whose notifications ConfigMap cannot be read: the
// controllers reconcile regardless, and a stop while they start leaves nothing running.
import { afterEach, describe, expect, it, vi } from "vitest";
import { API_VERSION } from "../api/group.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import type { KubeObject } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { FakeApiserver } from "../kube/fake-apiserver.ts";
import { OutboundDoor } from "../net/outbound.ts";
import { KINDS, rolloutObject, spec } from "../rollout/shell/fixtures.ts";
import { type ControllerSet, controllerSet } from "./controllers.ts";

const CONFIG_MAPS = "/api/v1/namespaces/ramp-system/configmaps";

describe("controllerSet with its notifications ConfigMap refused (403)", () => {
  let apiserver: FakeApiserver;
  let set: ControllerSet;
  const start = async () => {
    apiserver = await new FakeApiserver([...KINDS, { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" }]).start();
    apiserver.put(rolloutObject(spec()));
    apiserver.refuse(CONFIG_MAPS, 403);
    const client = apiserver.client();
    set = controllerSet(client, {
      outbound: new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] }),
      events: new EventRecorder(client),
      log: () => {},
      analysis: false,
      notifications: { configMap: { namespace: "ramp-system", name: "ramp-notifications" }, userAgent: "test" },
    });
  };
  const rolloutStatus = () =>
    apiserver.object<KubeObject & { status?: RolloutStatus }>(API_VERSION, "Rollout", "web", "ns")?.status;
  afterEach(async () => {
    await set.stop();
    await apiserver.stop();
  });

  it("starts the controllers regardless: the Rollout is reconciled, and readiness names the ConfigMap", async () => {
    await start();
    await set.start();
    await vi.waitFor(() => expect(rolloutStatus()?.phase).toBeDefined(), { timeout: 4_000, interval: 20 });
    await vi.waitFor(() => expect(set.problems.join()).toMatch(/ConfigMap ramp-system\/ramp-notifications/));
  });

  it("a stop while it starts leaves nothing running", async () => {
    await start();
    const starting = set.start();
    await set.stop();
    await starting;
    expect(set.synced).toBe(false);
    expect(rolloutStatus()).toBeUndefined();
  });
});
