// The controller's end-to-end flows, each on its own Rollout, so the plain e2e tests and the chaos
// test (the controller SIGKILLed at random points) run the very same steps and checks.
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { eventually, kube } from "./helpers.ts";
import {
  analysisTemplate,
  eventReasons,
  getRollout,
  podsByHash,
  ramp,
  rampWatch,
  rollout,
  selectorHash,
  service,
  setImage,
  setRunPhase,
  template,
  waitForRollout,
} from "./rollouts.ts";

export interface Flow {
  ns: string;
  name: string;
  /** Labels for the Rollout, e.g. the controller instance id. */
  labels?: Record<string, string>;
  /** Events are recorded after the status: a controller killed in between loses them (see docs). */
  checkEvents?: boolean;
}

const CANARY_STEPS = [{ setWeight: 20 }, { pause: { duration: "5s" } }, { setWeight: 50 }, { pause: {} }];

async function canaryRollout({ ns, name, labels }: Flow): Promise<string> {
  await kube().create(service(ns, `${name}-stable`, name));
  await kube().create(service(ns, `${name}-canary`, name));
  const spec = {
    replicas: 10,
    strategy: {
      canary: {
        stableService: `${name}-stable`,
        canaryService: `${name}-canary`,
        maxSurge: "25%",
        maxUnavailable: 0,
        scaleDownDelaySeconds: 5,
        abortScaleDownDelaySeconds: 5,
        steps: CANARY_STEPS,
      },
    },
  };
  await kube().create(rollout(ns, name, spec, labels));
  return (await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy")).stableRS as string;
}

/** 10 replicas through [20%, pause 5s, 50%, pause], promote, old pods gone after the delay. */
export async function canaryPromoteFlow(flow: Flow, opts: { watch?: boolean } = {}): Promise<void> {
  const { ns, name } = flow;
  const v1 = await canaryRollout(flow);
  expect(await selectorHash(ns, `${name}-stable`)).toBe(v1);

  await setImage(ns, name, `${name}:2`);
  // Started after the change: `status -w` ends as soon as it sees the rollout Healthy.
  const watch = opts.watch ? rampWatch("status", name, "-n", ns, "-w", "--timeout", "3m") : undefined;
  const paused = await waitForRollout(
    ns,
    name,
    "paused at the last step",
    (s) => s.phase === "Paused" && s.currentStepIndex === 3,
    90_000,
  );
  const v2 = paused.currentPodHash as string;
  expect(v2).not.toBe(v1);
  expect(await podsByHash(ns, name)).toEqual({ [v1]: 5, [v2]: 5 });
  expect(await selectorHash(ns, `${name}-canary`)).toBe(v2);
  expect(await selectorHash(ns, `${name}-stable`)).toBe(v1);

  const promoted = await ramp("promote", name, "-n", ns);
  expect(promoted.code, promoted.stderr).toBe(0);
  const healthy = await waitForRollout(ns, name, "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS === v2, 90_000);
  expect(healthy.availableReplicas).toBeGreaterThanOrEqual(10);
  expect(await selectorHash(ns, `${name}-stable`)).toBe(v2);
  await eventually("old ReplicaSet scaled down", async () => (await podsByHash(ns, name))[v1] === 0, 60_000);
  expect((await podsByHash(ns, name))[v2]).toBe(10);

  if (watch) {
    expect(await watch.exited, watch.output()).toBe(0);
    for (const stage of ["Progressing", "Paused", "Healthy"]) expect(watch.output()).toContain(stage);
  }
  if (flow.checkEvents !== false) {
    expect(await eventReasons(ns, name)).toEqual(
      expect.arrayContaining(["RolloutUpdated", "StepCompleted", "RolloutPaused", "RolloutResumed", "RolloutCompleted"]),
    );
  }
}

/** Abort at the last pause: stable back at once, zero canary pods after the delay; retry completes. */
export async function canaryAbortRetryFlow(flow: Flow): Promise<void> {
  const { ns, name } = flow;
  const v1 = await canaryRollout(flow);
  await setImage(ns, name, `${name}:2`);
  const paused = await waitForRollout(ns, name, "paused", (s) => s.phase === "Paused" && s.currentStepIndex === 3, 90_000);
  const v2 = paused.currentPodHash as string;

  const aborted = await ramp("abort", name, "-n", ns);
  expect(aborted.code, aborted.stderr).toBe(0);
  await waitForRollout(ns, name, "degraded", (s) => s.phase === "Degraded", 90_000);
  expect(await selectorHash(ns, `${name}-stable`)).toBe(v1);
  await eventually("canary service back on stable", async () => (await selectorHash(ns, `${name}-canary`)) === v1);
  await eventually("stable back to 10", async () => (await podsByHash(ns, name))[v1] === 10, 60_000);
  await eventually("zero canary pods after the delay", async () => (await podsByHash(ns, name))[v2] === 0, 60_000);

  const retried = await ramp("retry", name, "-n", ns);
  expect(retried.code, retried.stderr).toBe(0);
  await waitForRollout(ns, name, "paused again", (s) => s.phase === "Paused" && s.currentStepIndex === 3 && !s.abort, 90_000);
  expect(await selectorHash(ns, `${name}-canary`)).toBe(v2);
  expect((await ramp("promote", name, "-n", ns)).code).toBe(0);
  await waitForRollout(ns, name, "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS === v2, 90_000);
  if (flow.checkEvents !== false) {
    expect(await eventReasons(ns, name)).toEqual(
      expect.arrayContaining(["RolloutAborted", "RolloutRetried", "RolloutCompleted"]),
    );
  }
}

/** Blue-green: preview, manual promote, active switch, post-promotion analysis passes, scale-down. */
export async function blueGreenFlow(flow: Flow): Promise<void> {
  const { ns, name } = flow;
  await kube().create(service(ns, `${name}-active`, name));
  await kube().create(service(ns, `${name}-preview`, name));
  await kube().create(analysisTemplate(ns, `${name}-smoke`));
  const spec = {
    replicas: 4,
    strategy: {
      blueGreen: {
        activeService: `${name}-active`,
        previewService: `${name}-preview`,
        previewReplicaCount: 2,
        autoPromotionEnabled: false,
        postPromotionAnalysis: { templates: [{ templateName: `${name}-smoke` }] },
        scaleDownDelaySeconds: 5,
      },
    },
  };
  await kube().create(rollout(ns, name, spec, flow.labels));
  const v1 = (await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy")).stableRS as string;
  expect(await selectorHash(ns, `${name}-active`)).toBe(v1);

  await setImage(ns, name, `${name}:2`);
  const paused = await waitForRollout(ns, name, "preview paused", (s) => s.phase === "Paused", 90_000);
  const v2 = paused.currentPodHash as string;
  expect(await podsByHash(ns, name)).toEqual({ [v1]: 4, [v2]: 2 });
  expect(await selectorHash(ns, `${name}-preview`)).toBe(v2);
  expect(await selectorHash(ns, `${name}-active`)).toBe(v1);

  const promoted = await ramp("promote", name, "-n", ns);
  expect(promoted.code, promoted.stderr).toBe(0);
  await eventually("active switched to the new pods", async () => (await selectorHash(ns, `${name}-active`)) === v2, 60_000);
  expect((await podsByHash(ns, name))[v2]).toBe(4);
  // Until the post-promotion analysis passes, the old pods stay and stable is the old revision.
  const run = await eventually(
    "post-promotion run",
    async () => (await getRollout(ns, name)).status?.blueGreen?.postPromotionAnalysisRun?.name,
    60_000,
  );
  expect((await getRollout(ns, name)).status?.stableRS).toBe(v1);
  expect((await podsByHash(ns, name))[v1]).toBe(4);

  await setRunPhase(ns, run, "Successful");
  await waitForRollout(ns, name, "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS === v2, 90_000);
  await eventually("old pods scaled down after the delay", async () => (await podsByHash(ns, name))[v1] === 0, 60_000);
  if (flow.checkEvents !== false) {
    expect(await eventReasons(ns, name)).toEqual(expect.arrayContaining(["RolloutPromoted", "RolloutCompleted"]));
  }
}

type Pod = KubeObject & {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { conditions?: { type: string; status: string }[] };
};

export const readyPods = async (ns: string, app: string) =>
  (await kube().list<Pod>("v1", "Pod", ns, `app=${app}`)).filter(
    (p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  );

/** workloadRef: a running Deployment taken over with ready pods never below the desired count. */
export async function workloadRefFlow(flow: Flow): Promise<void> {
  const { ns, name } = flow;
  await kube().create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: { replicas: 4, selector: { matchLabels: { app: name } }, template: template(name, `${name}:1`) },
  });
  await eventually("the Deployment's pods ready", async () => (await readyPods(ns, name)).length === 4);
  let lowest = 4;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      lowest = Math.min(lowest, (await readyPods(ns, name)).length);
      await sleep(100);
    }
  })();
  const r = rollout(
    ns,
    name,
    {
      replicas: 4,
      workloadRef: { name, scaleDown: "onsuccess" },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    },
    flow.labels,
  );
  delete r.spec.template;
  await kube().create(r);
  try {
    await waitForRollout(ns, name, "healthy", (s) => s.phase === "Healthy", 90_000);
    await eventually(
      "the Deployment scaled to zero",
      async () =>
        (await kube().get<KubeObject & { spec: { replicas: number } }>("apps/v1", "Deployment", name, ns)).spec.replicas === 0,
      60_000,
    );
    await eventually("only the Rollout's pods left", async () => (await readyPods(ns, name)).length === 4, 60_000);
  } finally {
    sampling = false;
    await sampler;
  }
  expect(lowest).toBeGreaterThanOrEqual(4);
}
