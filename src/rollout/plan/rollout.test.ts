import { describe, expect, it } from "vitest";
import { MAX_STATUS_MESSAGE } from "../../api/brief.ts";
import { type RolloutStatus, rolloutSpec } from "../../api/rollout.ts";
import { replicaSet } from "./fixtures.ts";
import { heldRefusal, planRollout, trafficErrorStatus } from "./rollout.ts";
import type { Action, Observed, ObservedReplicaSet, ObservedRevision } from "./types.ts";

const T0 = new Date("2026-11-22T10:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();

const spec = (extra: Record<string, unknown> = {}) =>
  rolloutSpec.parse({
    replicas: 4,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
    progressDeadlineSeconds: 60,
    revisionHistoryLimit: 1,
    strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }], maxSurge: 1, maxUnavailable: 0 } },
    ...extra,
  });

const rs = (hash: string, replicas: number, revision: number, extra: Partial<ObservedReplicaSet> = {}) =>
  replicaSet(hash, replicas, { revision, ...extra });

/** The ControllerRevision that holds a revision's template. */
const saved = (hash: string, revision: number, problem?: string): ObservedRevision => ({
  name: `web-${hash}`,
  hash,
  revision,
  ...(problem ? { problem } : {}),
});

const recreatedCondition = {
  type: "ReplicaFailure" as const,
  status: "True" as const,
  reason: "StableReplicaSetRecreated",
  lastTransitionTime: T0.toISOString(),
};

const stable: RolloutStatus = { currentPodHash: "v1", stableRS: "v1", currentStepIndex: 2 };
const observe = (o: Partial<Observed>): Observed => ({
  name: "web",
  generation: 1,
  spec: spec(),
  status: stable,
  templateHash: "v1",
  replicaSets: [rs("v1", 4, 1)],
  analysisRuns: [],
  revisions: [saved("v1", 1)],
  services: {},
  now: T0,
  ...o,
});

const nonEvents = (actions: Action[]) => actions.filter((a) => a.type !== "event");
const reasons = (actions: Action[]) => actions.flatMap((a) => (a.type === "event" ? [a.reason] : []));
const condition = (s: RolloutStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe("planRollout: what every strategy shares", () => {
  it("an invalid spec is reported and changes nothing; the event is recorded once", () => {
    const first = planRollout(observe({ invalidSpec: 'Service "web-canary" not found' }));
    expect(nonEvents(first.actions)).toEqual([]);
    expect(reasons(first.actions)).toEqual(["InvalidSpec"]);
    expect(first.status.phase).toBe("Degraded");
    expect(condition(first.status, "InvalidSpec")).toMatchObject({ status: "True", message: 'Service "web-canary" not found' });
    const again = planRollout(observe({ status: first.status, invalidSpec: 'Service "web-canary" not found' }));
    expect(reasons(again.actions)).toEqual([]);
    const fixed = planRollout(observe({ status: first.status }));
    expect(condition(fixed.status, "InvalidSpec")).toBeUndefined();
    expect(fixed.status.phase).toBe("Healthy");
  });

  it("a refused ReplicaSet is recorded as status.refusedTemplate, held while the spec is unchanged, dropped once it is valid", () => {
    const refused = {
      podTemplateHash: "v2",
      replicaSet: "web-v2",
      message: 'ReplicaSet "web-v2" is invalid: spec.template: bad',
    };
    const o = observe({ templateHash: "v2", generation: 2, invalidSpec: refused.message, refusedTemplate: refused });
    const first = planRollout(o);
    expect(first.status).toMatchObject({ refusedTemplate: refused, observedGeneration: 2, phase: "Degraded" });
    expect(condition(first.status, "InvalidSpec")).toMatchObject({ status: "True", message: refused.message });
    expect(heldRefusal(first.status, 2, "v2")).toEqual(refused);
    const otherProblem = planRollout({
      ...o,
      status: first.status,
      invalidSpec: 'Service "web" not found',
      refusedTemplate: undefined,
    });
    expect(otherProblem.status.refusedTemplate).toBeUndefined();
    const fixed = planRollout(observe({ status: first.status }));
    expect(fixed.status.refusedTemplate).toBeUndefined();
    expect(condition(fixed.status, "InvalidSpec")).toBeUndefined();
  });

  it("a huge refusal is bounded in status.refusedTemplate as in the InvalidSpec condition, and is not new when held", () => {
    const huge = `ReplicaSet "web-v2" is invalid: ${"x".repeat(100_000)}`;
    const refused = { podTemplateHash: "v2", replicaSet: "web-v2", message: huge };
    const first = planRollout(observe({ templateHash: "v2", generation: 2, invalidSpec: huge, refusedTemplate: refused }));
    const kept = first.status.refusedTemplate?.message ?? "";
    expect(kept).toHaveLength(MAX_STATUS_MESSAGE);
    expect(kept).toBe(condition(first.status, "InvalidSpec")?.message);
    expect(first.status.message?.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE + "invalid spec: ".length);
    // The next reconcile reports the refusal held in the status: the same problem, no new Event.
    const held = heldRefusal(first.status, 2, "v2");
    expect(held?.message).toBe(kept);
    const again = planRollout(
      observe({
        templateHash: "v2",
        generation: 2,
        status: first.status,
        invalidSpec: kept,
        ...(held ? { refusedTemplate: held } : {}),
      }),
    );
    expect(reasons(again.actions)).toEqual([]);
    expect(again.status.refusedTemplate).toEqual(first.status.refusedTemplate);
  });

  it.each<{ name: string; generation: number; templateHash: string; held: boolean }>([
    { name: "the same revision, the spec unchanged: held", generation: 2, templateHash: "v2", held: true },
    { name: "the spec changed since: not held", generation: 3, templateHash: "v2", held: false },
    { name: "another revision: not held", generation: 2, templateHash: "v3", held: false },
  ])("heldRefusal: $name", ({ generation, templateHash, held }) => {
    const refusedTemplate = { podTemplateHash: "v2", replicaSet: "web-v2", message: "refused" };
    const status: RolloutStatus = { observedGeneration: 2, refusedTemplate };
    expect(heldRefusal(status, generation, templateHash)).toEqual(held ? refusedTemplate : undefined);
    expect(heldRefusal({ observedGeneration: 2 }, generation, templateHash)).toBeUndefined();
  });

  it.each([
    { name: "healthy", o: observe({}), conditions: { Healthy: "True", Available: "True", Paused: "False", Progressing: "True" } },
    {
      name: "paused",
      o: observe({
        templateHash: "v2",
        status: { ...stable, currentPodHash: "v2", currentStepIndex: 1 },
        replicaSets: [rs("v1", 2, 1), rs("v2", 2, 2)],
      }),
      conditions: { Healthy: "False", Available: "True", Paused: "True", Progressing: "True" },
    },
  ])("conditions when $name", ({ o, conditions }) => {
    const plan = planRollout(o);
    for (const [type, status] of Object.entries(conditions)) expect(condition(plan.status, type)?.status).toBe(status);
  });

  it("the progress deadline: Degraded with an event once, and an abort when asked; progress clears it", () => {
    const stuck = observe({
      templateHash: "v2",
      status: { ...stable, currentPodHash: "v2", currentStepIndex: 0 },
      replicaSets: [rs("v1", 4, 1), rs("v2", 1, 2, { available: 0, ready: 0 })],
    });
    const start = planRollout(stuck);
    expect(start.status.phase).toBe("Progressing");
    expect(start.requeueAfterMs).toBe(60_000);
    const late = planRollout({ ...stuck, status: start.status, now: at(61) });
    expect(late.status.phase).toBe("Degraded");
    expect(condition(late.status, "Progressing")).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    expect(reasons(late.actions)).toContain("ProgressDeadlineExceeded");
    const later = planRollout({ ...stuck, status: late.status, now: at(90) });
    expect(later.status.phase).toBe("Degraded");
    expect(reasons(later.actions)).not.toContain("ProgressDeadlineExceeded");
    const aborting = planRollout({ ...stuck, spec: spec({ progressDeadlineAbort: true }), status: start.status, now: at(61) });
    expect(aborting.status.abort).toBe(true);
    const moving = planRollout({
      ...stuck,
      status: late.status,
      now: at(95),
      replicaSets: [rs("v1", 4, 1), rs("v2", 2, 2)],
    });
    expect(condition(moving.status, "Progressing")?.status).toBe("True");
  });

  const analysed = observe({
    spec: spec({ strategy: { canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "t" }] } }] } } }),
    templateHash: "v2",
    // The run this step started (the planner creates it and records its name first).
    status: {
      ...stable,
      currentPodHash: "v2",
      currentStepIndex: 1,
      canary: { currentStepAnalysisRun: { name: "web-v2-step1" } },
    },
    replicaSets: [rs("v1", 2, 1), rs("v2", 2, 2)],
  });
  const stepRun = (phase: "Running" | "Successful") =>
    ({ name: "web-v2-step1", role: "step", hash: "v2", stepIndex: 1, phase, terminated: false }) as const;

  it("a step's analysis gets the progress deadline from its start: one that never ends is Degraded", () => {
    const started = planRollout({ ...analysed, analysisRuns: [stepRun("Running")], now: at(0) });
    expect(started.status.canary?.currentStepAnalysisRun).toMatchObject({ phase: "Running" });
    const running = planRollout({ ...analysed, analysisRuns: [stepRun("Running")], status: started.status, now: at(59) });
    expect(running.status.phase).toBe("Progressing");
    const late = planRollout({ ...analysed, analysisRuns: [stepRun("Running")], status: running.status, now: at(61) });
    expect(late.status.phase).toBe("Degraded");
    expect(condition(late.status, "Progressing")).toMatchObject({ reason: "ProgressDeadlineExceeded" });
  });

  it.each([
    {
      name: "while the analysis runs",
      run: stepRun("Running"),
      replicaSets: [rs("v1", 2, 1), rs("v2", 2, 2)],
      at: 30,
      phase: "Progressing",
    },
    {
      name: "once it passed and the rollout is Healthy",
      run: stepRun("Successful"),
      replicaSets: [rs("v1", 0, 1), rs("v2", 4, 2)],
      at: 3600,
      phase: "Healthy",
    },
  ])(
    "a reconcile that changes nothing plans the same status $name (its write would wake it again)",
    ({ run, replicaSets, at: t, phase }) => {
      const o = { ...analysed, analysisRuns: [run], replicaSets };
      let status = planRollout({ ...o, now: at(0) }).status;
      // Settle: the first plans move the step and the replica counts.
      for (let i = 1; i <= 5; i++) status = planRollout({ ...o, status, now: at(i) }).status;
      const again = planRollout({ ...o, status, now: at(t) });
      expect(again.status.phase).toBe(phase);
      expect(again.status).toEqual(status);
    },
  );

  it("keeps revisionHistoryLimit idle ReplicaSets, deleting the oldest", () => {
    const plan = planRollout(observe({ replicaSets: [rs("v1", 4, 3), rs("a", 0, 1), rs("b", 0, 2)] }));
    expect(nonEvents(plan.actions)).toEqual([{ type: "deleteReplicaSet", name: "web-a" }]);
  });

  it.each<{ name: string; o: Partial<Observed>; actions: Action[] }>([
    {
      name: "the first revision's template is saved once its ReplicaSet is created",
      o: { status: {}, replicaSets: [], revisions: [] },
      actions: [
        { type: "createReplicaSet", hash: "v1", revision: 1, replicas: 4 },
        { type: "saveRevision", hash: "v1", revision: 1 },
      ],
    },
    {
      name: "a stable revision saved by no earlier controller is saved from its ReplicaSet, mid-update",
      o: {
        templateHash: "v2",
        status: { ...stable, currentPodHash: "v2", currentStepIndex: 1 },
        replicaSets: [rs("v1", 2, 1), rs("v2", 2, 2)],
        revisions: [saved("v2", 2)],
      },
      actions: [{ type: "saveRevision", hash: "v1", revision: 1 }],
    },
    {
      name: "saved templates beyond revisionHistoryLimit go, oldest first; the current and stable ones stay",
      o: { replicaSets: [rs("v1", 4, 3)], revisions: [saved("a", 1), saved("v1", 3), saved("b", 2)] },
      actions: [{ type: "deleteRevision", name: "web-a" }],
    },
    {
      name: "an unusable saved template of the current revision goes, to be saved again from the spec",
      o: { revisions: [saved("v1", 1, "is not a pod template (data.spec: required)")] },
      actions: [{ type: "deleteRevision", name: "web-v1" }],
    },
  ])("revision history: $name", ({ o, actions }) => {
    expect(nonEvents(planRollout(observe(o)).actions)).toEqual(actions);
  });

  // Mid-update, canary at 50% of 4 (maxSurge 1): the stable ReplicaSet v1 deleted.
  const midUpdate = (o: Partial<Observed>) =>
    observe({
      templateHash: "v2",
      status: { ...stable, currentPodHash: "v2", currentStepIndex: 0 },
      revisions: [saved("v1", 1), saved("v2", 2)],
      ...o,
    });
  it.each([
    {
      name: "its template saved: recreated, and ReplicaFailure says so",
      o: midUpdate({ replicaSets: [rs("v2", 2, 2)] }),
      reason: "StableReplicaSetRecreated",
      message: "the stable ReplicaSet web-v1 was deleted and is recreated from its saved template (ControllerRevision web-v1)",
    },
    {
      name: "recreated, its pods not all available yet: still said",
      o: midUpdate({
        replicaSets: [rs("v2", 2, 2), rs("v1", 2, 1, { available: 1, ready: 1 })],
        status: { ...stable, currentPodHash: "v2", currentStepIndex: 0, conditions: [recreatedCondition] },
      }),
      reason: "StableReplicaSetRecreated",
      message:
        "the stable ReplicaSet web-v1 was deleted and is recreated from its saved template (ControllerRevision web-v1): 1 of 2 pods available",
    },
    {
      name: "recreated with every pod available: cleared",
      o: midUpdate({
        replicaSets: [rs("v2", 2, 2), rs("v1", 2, 1)],
        status: { ...stable, currentPodHash: "v2", currentStepIndex: 0, conditions: [recreatedCondition] },
      }),
      reason: undefined,
      message: undefined,
    },
    {
      name: "no template saved: it says it cannot be recreated, and what to do",
      o: midUpdate({ replicaSets: [rs("v2", 2, 2)], revisions: [saved("v2", 2)] }),
      reason: "StableReplicaSetLost",
      message:
        "the stable ReplicaSet web-v1 is gone and cannot be recreated (no ControllerRevision web-v1 holds its template): promote to finish on revision v2, or undo",
    },
    {
      name: "its saved template unusable: it says why",
      o: midUpdate({ replicaSets: [rs("v2", 2, 2)], revisions: [saved("v1", 1, "is not a pod template (data.spec: required)")] }),
      reason: "StableReplicaSetLost",
      message:
        "the stable ReplicaSet web-v1 is gone and cannot be recreated (its saved template (ControllerRevision web-v1) is not a pod template (data.spec: required)): promote to finish on revision v2, or undo",
    },
    {
      name: "there: nothing to say",
      o: midUpdate({ replicaSets: [rs("v1", 4, 1), rs("v2", 2, 2)] }),
      reason: undefined,
      message: undefined,
    },
  ])("stable ReplicaSet deleted mid-update, $name", ({ o, reason, message }) => {
    const plan = planRollout(o);
    const failure = condition(plan.status, "ReplicaFailure");
    expect(failure && { reason: failure.reason, message: failure.message }).toEqual(reason ? { reason, message } : undefined);
    if (message) expect(plan.status.message).toContain(message);
  });

  it("a stable ReplicaSet that cannot be recreated is told by one Event, not one per reconcile", () => {
    const lost = midUpdate({ replicaSets: [rs("v2", 2, 2)], revisions: [saved("v2", 2)] });
    const first = planRollout(lost);
    expect(reasons(first.actions)).toContain("StableReplicaSetLost");
    expect(reasons(planRollout({ ...lost, status: first.status, now: at(5) }).actions)).not.toContain("StableReplicaSetLost");
  });

  it.each([
    {
      name: "replaces one old pod when the rollout is whole",
      restart: {
        pods: [
          { name: "p1", replicaSet: "web-v1" },
          { name: "p2", replicaSet: "web-v1" },
        ],
        terminating: 0,
      },
      actions: [{ type: "deletePod", name: "p1" }],
      restartedAt: undefined,
    },
    {
      name: "waits while a pod is terminating",
      restart: { pods: [{ name: "p2", replicaSet: "web-v1" }], terminating: 1 },
      actions: [],
      restartedAt: undefined,
    },
    {
      name: "records the restart once no old pod is left and the rollout is whole",
      restart: { pods: [], terminating: 0 },
      actions: [],
      restartedAt: iso(-5),
    },
    {
      name: "waits for the last replacement to be available before recording it",
      restart: { pods: [], terminating: 0 },
      replicaSets: [rs("v1", 4, 1, { available: 3 })],
      actions: [],
      restartedAt: undefined,
    },
  ])("restartAt: $name", ({ restart, actions, restartedAt, replicaSets }) => {
    const plan = planRollout(observe({ spec: spec({ restartAt: iso(-5) }), restart, ...(replicaSets ? { replicaSets } : {}) }));
    expect(nonEvents(plan.actions)).toEqual(actions);
    expect(plan.status.restartedAt).toBe(restartedAt);
  });

  it("a restartAt still ahead deletes nothing and wakes the rollout when it comes", () => {
    const restart = { pods: [{ name: "p1", replicaSet: "web-v1" }], terminating: 0 };
    const plan = planRollout(observe({ spec: spec({ restartAt: iso(0.8) }), restart }));
    expect(nonEvents(plan.actions)).toEqual([]);
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(800);
    expect(plan.requeueAfterMs).toBeGreaterThan(0);
  });

  it.each([
    { scaleDown: "onsuccess", healthy: true, deployment: 4, want: 0 },
    { scaleDown: "onsuccess", healthy: false, deployment: 4, want: undefined },
    { scaleDown: "progressively", healthy: false, deployment: 4, want: 2 },
    { scaleDown: "never", healthy: true, deployment: 4, want: undefined },
  ])(
    "workloadRef scaleDown $scaleDown (healthy: $healthy) scales the Deployment to $want",
    ({ scaleDown, healthy, deployment, want }) => {
      const o = observe({
        spec: spec({ template: undefined, workloadRef: { name: "web", scaleDown } }),
        deployment: { replicas: deployment, available: deployment },
        replicaSets: [rs("v1", 4, 1, healthy ? {} : { available: 2, ready: 2 })],
      });
      const plan = planRollout(o);
      const scale = plan.actions.find((a) => a.type === "scaleDeployment");
      expect(scale && "replicas" in scale ? scale.replicas : undefined).toBe(want);
    },
  );

  it("a traffic router error keeps the last status, with Progressing False and one event per new problem", () => {
    const before = { ...stable, currentStepIndex: 1, message: "step 2 of 4" };
    const first = trafficErrorStatus(before, 'HTTPRoute "web" not found in namespace "shop"', at(0));
    expect(first.status).toMatchObject({
      currentStepIndex: 1,
      message: 'traffic routing failed, retrying: HTTPRoute "web" not found in namespace "shop"',
    });
    expect(condition(first.status, "Progressing")).toMatchObject({ status: "False", reason: "TrafficRoutingError" });
    expect(first.events.map((e) => e.reason)).toEqual(["TrafficRoutingError"]);
    expect(trafficErrorStatus(first.status, 'HTTPRoute "web" not found in namespace "shop"', at(5)).events).toEqual([]);
  });
});
