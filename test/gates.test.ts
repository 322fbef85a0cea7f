// Gate steps end to end: a real local HTTP receiver, the controller as a process on the dev cluster.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  eventReasons,
  ramp,
  rollout,
  selectorHash,
  service,
  setImage,
  startController,
  waitForRollout,
} from "./rollouts.ts";

interface Call {
  path: string;
  body: Record<string, unknown>;
}

/** A receiver whose answer per path the test decides; `hang` never answers. */
function receiver(answer: (path: string, calls: Call[]) => number | "hang") {
  const calls: Call[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const call = { path: req.url ?? "", body: JSON.parse(raw) as Record<string, unknown> };
    calls.push(call);
    const status = answer(call.path, calls);
    if (status === "hang") hanging.add(res);
    else res.writeHead(status).end();
  });
  return {
    calls,
    callsTo: (path: string) => calls.filter((c) => c.path === path),
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    listen: async () => {
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

const canary = (steps: unknown[]) => ({
  replicas: 2,
  strategy: { canary: { maxSurge: 1, maxUnavailable: 0, scaleDownDelaySeconds: 0, steps } },
});

describe("gate steps", () => {
  let ns: string;
  let controller: ControllerProcess;
  const server = receiver((path, calls) => {
    if (path.startsWith("/flaky")) return calls.filter((c) => c.path === path).length <= 3 ? 500 : 200;
    if (path === "/hang") return "hang";
    return path === "/down" ? 503 : 200;
  });
  beforeAll(async () => {
    await server.listen();
    ns = await namespace("gates");
    // One worker: a gate call awaited inside a reconcile would hold every other rollout.
    controller = await startController([
      "--namespace",
      ns,
      "--leader-election-namespace",
      ns,
      "--no-analysis",
      "--no-notifications",
      "--workers",
      "1",
    ]);
  });
  afterAll(async () => {
    await controller?.stop();
    await server.close();
  });

  it("a gate answering 500 three times, then 200, holds the rollout and then lets it finish", async () => {
    const gate = { name: "confirm", url: `${server.url()}/flaky`, timeout: "2s", retries: 3, retryDelay: "1s" };
    await kube().create(rollout(ns, "flaky", canary([{ setWeight: 50 }, { gate }])));
    await waitForRollout(ns, "flaky", "first revision healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "flaky", "flaky:2");

    const held = await waitForRollout(
      ns,
      "flaky",
      "held at the gate after a failed call",
      (s) => s.currentStepIndex === 1 && s.canary?.currentGate?.phase === "Failed",
    );
    expect(["Progressing", "Paused"]).toContain(held.phase);
    expect(held.stableRS).not.toBe(held.currentPodHash);

    const healthy = await waitForRollout(
      ns,
      "flaky",
      "healthy at v2",
      (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash && s.stableRS !== held.stableRS,
    );
    expect(healthy.canary?.currentGate).toMatchObject({ name: "confirm", stepIndex: 1, attempts: 4, phase: "Passed" });
    const calls = server.callsTo("/flaky");
    expect(calls).toHaveLength(4);
    expect(calls.map((c) => c.body.attempt)).toEqual([1, 2, 3, 4]);
    expect(calls[0]?.body).toMatchObject({
      rollout: "flaky",
      namespace: ns,
      revision: healthy.currentPodHash,
      step: 1,
      gate: "confirm",
    });
    expect(await eventReasons(ns, "flaky")).not.toContain("GateFailed");
  }, 120_000);

  it("a gate that keeps failing pauses with GateFailed; ramp promote moves past it", async () => {
    const gate = { name: "approve", url: `${server.url()}/down`, timeout: "2s", retries: 1, retryDelay: "1s" };
    await kube().create(rollout(ns, "down", canary([{ setWeight: 50 }, { gate }])));
    await waitForRollout(ns, "down", "first revision healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "down", "down:2");
    const paused = await waitForRollout(ns, "down", "paused by the gate", (s) =>
      (s.pauseConditions ?? []).some((p) => p.reason === "GateFailed"),
    );
    expect(paused).toMatchObject({
      phase: "Paused",
      currentStepIndex: 1,
      canary: { currentGate: { attempts: 2, phase: "Failed" } },
    });
    expect(server.callsTo("/down")).toHaveLength(2);
    await eventually("the GateFailed event", async () => (await eventReasons(ns, "down")).includes("GateFailed"));

    const promoted = await ramp("promote", "down", "-n", ns);
    expect(promoted.code, promoted.stderr).toBe(0);
    await waitForRollout(ns, "down", "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS === paused.currentPodHash);
    expect(server.callsTo("/down")).toHaveLength(2);
  }, 120_000);

  it("blue-green: the pre-promotion gate holds the active Service until it answers 2xx", async () => {
    await kube().create(service(ns, "bg-active", "bg"));
    await kube().create(service(ns, "bg-preview", "bg"));
    const gate = { name: "confirm", url: `${server.url()}/flaky-bg`, timeout: "2s", retries: 3, retryDelay: "1s" };
    const spec = {
      replicas: 2,
      strategy: {
        blueGreen: { activeService: "bg-active", previewService: "bg-preview", prePromotionGate: gate, scaleDownDelaySeconds: 0 },
      },
    };
    await kube().create(rollout(ns, "bg", spec));
    const v1 = (await waitForRollout(ns, "bg", "first revision healthy", (s) => s.phase === "Healthy")).stableRS;
    await setImage(ns, "bg", "bg:2");
    const held = await waitForRollout(ns, "bg", "held by the gate", (s) => s.blueGreen?.currentGate?.phase === "Failed");
    expect(await selectorHash(ns, "bg-active")).toBe(v1);
    expect(await selectorHash(ns, "bg-preview")).toBe(held.currentPodHash);
    const healthy = await waitForRollout(ns, "bg", "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS !== v1);
    expect(healthy.blueGreen?.currentGate).toMatchObject({ name: "confirm", attempts: 4, phase: "Passed" });
    expect(await selectorHash(ns, "bg-active")).toBe(healthy.stableRS);
    expect(server.callsTo("/flaky-bg").map((c) => c.body.step)).toEqual([0, 0, 0, 0]);
  }, 120_000);

  it("a receiver that hangs does not slow another rollout's reconciliation", async () => {
    const steps = [{ setWeight: 50 }, { pause: {} }];
    await kube().create(rollout(ns, "b", canary(steps)));
    const hang = { name: "load-test", url: `${server.url()}/hang`, timeout: "5s", retries: 3, retryDelay: "1s" };
    await kube().create(rollout(ns, "a", canary([{ gate: hang }, { setWeight: 50 }])));
    await waitForRollout(ns, "b", "b healthy", (s) => s.phase === "Healthy");
    await waitForRollout(ns, "a", "a healthy", (s) => s.phase === "Healthy");

    /** Time from a new image on b to b's first step done. */
    const timeB = async (image: string) => {
      const before = (await waitForRollout(ns, "b", "b settled", () => true)).currentPodHash;
      const started = performance.now();
      await setImage(ns, "b", image);
      await waitForRollout(
        ns,
        "b",
        `b at its first step with ${image}`,
        (s) => s.currentPodHash !== before && (s.currentStepIndex ?? 0) >= 1,
      );
      return performance.now() - started;
    };
    const alone = await timeB("b:2");

    await setImage(ns, "a", "a:2");
    await waitForRollout(ns, "a", "a's gate call under way", (s) => s.canary?.currentGate?.phase === "Pending");
    // Pending is written as the call starts; the request reaches the receiver a moment later.
    await eventually("a's gate call at the receiver", async () => server.callsTo("/hang").length >= 1, 30_000);
    const beside = await timeB("b:3");
    const a = await waitForRollout(ns, "a", "a still at its gate", () => true);
    expect(a.currentStepIndex).toBe(0);
    expect(["Pending", "Failed"]).toContain(a.canary?.currentGate?.phase);
    console.log(
      `b from setImage to its first step: ${alone.toFixed(0)} ms alone, ${beside.toFixed(0)} ms while a's gate hangs (1 worker)`,
    );
  }, 120_000);
});
