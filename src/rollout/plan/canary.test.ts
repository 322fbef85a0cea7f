import { describe, expect, it } from "vitest";
import { type RolloutStatus, rolloutSpec } from "../../api/rollout.ts";
import { planCanary } from "./canary.ts";
import { at, changes, events, type RetryCase, replicaSet, retryCases, T0 } from "./fixtures.ts";
import type { Action, Observed, ObservedAnalysisRun, ObservedReplicaSet, Plan } from "./types.ts";

const spec = (steps: unknown[], extra: Record<string, unknown> = {}, canary: Record<string, unknown> = {}) =>
  rolloutSpec.parse({
    replicas: 10,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
    strategy: {
      canary: { steps, maxSurge: "25%", maxUnavailable: 0, scaleDownDelaySeconds: 30, abortScaleDownDelaySeconds: 10, ...canary },
    },
    ...extra,
  });

const ANALYSIS_STEP = { analysis: { templates: [{ templateName: "http-slo" }] } };
const stepRun = (phase: ObservedAnalysisRun["phase"]): ObservedAnalysisRun => ({
  name: "web-new-step1",
  role: "step",
  hash: "new",
  stepIndex: 1,
  ...(phase ? { phase } : {}),
  terminated: false,
});

const rs = replicaSet;

const STEPS = [{ setWeight: 20 }, { pause: { duration: "5s" } }, { setWeight: 50 }, { pause: {} }];
const midRollout: RolloutStatus = { currentPodHash: "new", stableRS: "old", currentStepIndex: 0 };

const LOAD_TEST = { name: "load-test", url: "http://load.example/start" };
const CONFIRM = { name: "confirm", url: "https://confirm.example/ok", timeout: "5s", retries: 1, retryDelay: "2s" };
const CONFIRM_AT = { name: "confirm", stepIndex: 2 };
const GATE_STEPS = [{ gate: LOAD_TEST }, { setWeight: 20 }, { gate: CONFIRM }];
const atGate = (gate: Partial<NonNullable<NonNullable<RolloutStatus["canary"]>["currentGate"]>>): RolloutStatus => ({
  ...midRollout,
  currentStepIndex: 2,
  canary: {
    currentGate: { name: "confirm", stepIndex: 2, attempts: 1, phase: "Pending", lastAttemptAt: T0.toISOString(), ...gate },
  },
});
const callConfirm = (attempt: number): Action => ({
  type: "callGate",
  name: "confirm",
  url: CONFIRM.url,
  stepIndex: 2,
  timeoutMs: 5000,
  attempt,
});

const observe = (o: Partial<Observed> & Pick<Observed, "replicaSets" | "status">): Observed => ({
  name: "web",
  generation: 1,
  analysisRuns: [],
  revisions: [],
  services: {},
  spec: spec(STEPS),
  templateHash: "new",
  now: T0,
  ...o,
});

describe("planCanary: one decision at a time", () => {
  // Mid-update (canary at 20%: 2 new pods of 10) with the stable ReplicaSet deleted.
  const SAVED_OLD = { name: "web-old", hash: "old", revision: 1 };
  const recreate = (replicas: number): Action => ({
    type: "createReplicaSet",
    hash: "old",
    revision: 1,
    replicas,
    fromRevision: "web-old",
  });
  it.each<{ name: string; observed: Partial<Observed>; actions: Action[]; events: string[] }>([
    {
      name: "its template saved: recreated at what the weight leaves it, within maxSurge",
      observed: { revisions: [SAVED_OLD] },
      actions: [recreate(8)],
      events: ["StableReplicaSetRecreated"],
    },
    {
      name: "behind a router: recreated with every pod (stable keeps them all)",
      observed: {
        spec: spec(STEPS, {}, { trafficRouting: { gatewayAPI: { httpRoute: "web" } } }),
        revisions: [SAVED_OLD],
      },
      actions: [recreate(10)],
      events: ["StableReplicaSetRecreated"],
    },
    {
      name: "aborted: recreated at full size for the traffic coming back",
      observed: { status: { ...midRollout, abort: true, abortedAt: T0.toISOString() }, revisions: [SAVED_OLD] },
      actions: [recreate(10)],
      events: ["StableReplicaSetRecreated"],
    },
    {
      name: "promoting without a router: no stable pods are wanted, so none is made",
      observed: { status: { ...midRollout, promoteFull: true }, revisions: [SAVED_OLD] },
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 10 }],
      events: [],
    },
    {
      name: "no template saved: nothing can be made",
      observed: { revisions: [] },
      actions: [],
      events: ["StepCompleted", "RolloutPaused"], // with no stable ReplicaSet to wait for, the steps walk on
    },
    {
      name: "its saved template unusable: nothing is made from it",
      observed: { revisions: [{ ...SAVED_OLD, problem: "is not a pod template" }] },
      actions: [],
      events: ["StepCompleted", "RolloutPaused"], // with no stable ReplicaSet to wait for, the steps walk on
    },
    {
      name: "another revision's template saved, not the stable one's",
      observed: { revisions: [{ name: "web-older", hash: "older", revision: 0 }] },
      actions: [],
      events: ["StepCompleted", "RolloutPaused"], // with no stable ReplicaSet to wait for, the steps walk on
    },
  ])("stable ReplicaSet deleted mid-update, $name", ({ observed, actions, events: reasons }) => {
    const plan = planCanary(observe({ status: midRollout, replicaSets: [rs("new", 2)], ...observed }));
    expect(changes(plan)).toEqual(actions);
    expect(events(plan)).toEqual(reasons);
  });

  it.each<{
    name: string;
    observed: Observed;
    actions: Action[];
    status: Partial<RolloutStatus>;
    events: string[];
    requeue?: number;
  }>([
    {
      name: "the first revision goes straight to full size and is stable",
      observed: observe({ status: {}, replicaSets: [] }),
      actions: [{ type: "createReplicaSet", hash: "new", revision: 1, replicas: 10 }],
      status: { stableRS: "new", currentPodHash: "new", currentStepIndex: 4, phase: "Progressing" },
      events: ["RolloutUpdated"],
    },
    {
      name: "a new revision starts the steps, surging the canary within maxSurge",
      observed: observe({
        status: { currentPodHash: "old", stableRS: "old", currentStepIndex: 4 },
        replicaSets: [rs("old", 10)],
      }),
      actions: [{ type: "createReplicaSet", hash: "new", revision: 2, replicas: 2 }],
      status: { currentStepIndex: 0, phase: "Progressing" },
      events: ["RolloutUpdated"],
    },
    {
      name: "setWeight 20 at its targets completes and the timed pause begins",
      observed: observe({ status: midRollout, replicaSets: [rs("new", 2), rs("old", 8)] }),
      actions: [],
      status: {
        currentStepIndex: 1,
        phase: "Paused",
        pauseConditions: [{ reason: "CanaryPauseStep", startTime: T0.toISOString() }],
      },
      events: ["StepCompleted", "RolloutPaused"],
      requeue: 5000,
    },
    {
      name: "setWeight waits while the canary pods are not available, taking down only what is available",
      observed: observe({ status: midRollout, replicaSets: [rs("new", 2, { available: 1 }), rs("old", 10)] }),
      actions: [{ type: "scaleReplicaSet", name: "web-old", replicas: 9 }],
      status: { currentStepIndex: 0, phase: "Progressing" },
      events: [],
    },
    {
      name: "a timed pause that is over resumes and moves to the next weight",
      observed: observe({
        now: at(6),
        status: {
          ...midRollout,
          currentStepIndex: 1,
          pauseConditions: [{ reason: "CanaryPauseStep", startTime: T0.toISOString() }],
        },
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 5 }],
      status: { currentStepIndex: 2, pauseConditions: [] },
      events: ["RolloutResumed", "StepCompleted"],
    },
    {
      name: "an indefinite pause holds until promoted",
      observed: observe({
        now: at(600),
        status: {
          ...midRollout,
          currentStepIndex: 3,
          pauseConditions: [{ reason: "CanaryPauseStep", startTime: T0.toISOString() }],
        },
        replicaSets: [rs("new", 5), rs("old", 5)],
      }),
      actions: [],
      status: { currentStepIndex: 3, phase: "Paused" },
      events: [],
    },
    {
      name: "spec.paused holds the steps",
      observed: observe({ spec: spec(STEPS, { paused: true }), status: midRollout, replicaSets: [rs("new", 2), rs("old", 8)] }),
      actions: [],
      status: { currentStepIndex: 0, phase: "Paused" },
      events: [],
    },
    {
      name: "an abort brings stable back and keeps the canary for its delay",
      observed: observe({
        status: { ...midRollout, currentStepIndex: 2, abort: true },
        replicaSets: [rs("new", 5), rs("old", 5)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-old", replicas: 8 }],
      status: { phase: "Degraded", abortedAt: T0.toISOString() },
      events: ["RolloutAborted"],
      requeue: 10_000,
    },
    {
      name: "after the abort delay the canary goes",
      observed: observe({
        now: at(11),
        status: { ...midRollout, currentStepIndex: 2, abort: true, abortedAt: T0.toISOString() },
        replicaSets: [rs("new", 5), rs("old", 10)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 0 }],
      status: { phase: "Degraded" },
      events: [],
    },
    {
      name: "going back to the stable template skips the steps, stable first",
      observed: observe({ templateHash: "old", status: midRollout, replicaSets: [rs("new", 2), rs("old", 8)] }),
      actions: [{ type: "scaleReplicaSet", name: "web-old", replicas: 10 }],
      status: { currentPodHash: "old", currentStepIndex: 4 },
      events: ["RolloutUpdated"],
    },
    {
      name: "an analysis step starts its AnalysisRun and waits",
      observed: observe({
        spec: spec([{ setWeight: 20 }, ANALYSIS_STEP]),
        status: { ...midRollout, currentStepIndex: 1 },
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [
        {
          type: "createAnalysisRun",
          name: "web-new-step1",
          role: "step",
          hash: "new",
          stepIndex: 1,
          analysis: ANALYSIS_STEP.analysis,
        },
      ],
      status: { currentStepIndex: 1, phase: "Progressing", canary: { currentStepAnalysisRun: { name: "web-new-step1" } } },
      events: [],
    },
    {
      name: "a successful step analysis completes the step",
      observed: observe({
        spec: spec([{ setWeight: 20 }, ANALYSIS_STEP, { setWeight: 50 }]),
        status: { ...midRollout, currentStepIndex: 1, canary: { currentStepAnalysisRun: { name: "web-new-step1" } } },
        analysisRuns: [stepRun("Successful")],
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 5 }],
      status: { currentStepIndex: 2, canary: { currentStepAnalysisRun: { name: "web-new-step1", phase: "Successful" } } },
      events: ["AnalysisRunSuccessful", "StepCompleted"],
    },
    {
      name: "behind a router the canary grows beside a full stable, past maxSurge",
      observed: observe({
        spec: spec(
          [{ setWeight: 25 }, { setWeight: 75 }],
          {},
          {
            stableService: "web-stable",
            canaryService: "web-canary",
            trafficRouting: { gatewayAPI: { httpRoute: "web" } },
          },
        ),
        status: { ...midRollout, currentStepIndex: 1 },
        services: { "web-stable": "old", "web-canary": "new" },
        replicaSets: [rs("new", 3), rs("old", 10)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 8 }],
      status: { currentStepIndex: 1 },
      events: [],
    },
    {
      name: "a failed step analysis aborts",
      observed: observe({
        spec: spec([{ setWeight: 20 }, ANALYSIS_STEP]),
        status: { ...midRollout, currentStepIndex: 1, canary: { currentStepAnalysisRun: { name: "web-new-step1" } } },
        analysisRuns: [{ ...stepRun("Failed"), message: 'metric "errors" Failed' }],
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-old", replicas: 10 }],
      status: {
        abort: true,
        abortedAt: T0.toISOString(),
        phase: "Degraded",
        message: 'aborted: traffic back to stable revision old (analysis run web-new-step1 Failed: metric "errors" Failed)',
      },
      events: ["AnalysisRunFailed", "RolloutAborted"],
      requeue: 10_000,
    },
    {
      name: "an inconclusive step analysis pauses for a person",
      observed: observe({
        spec: spec([{ setWeight: 20 }, ANALYSIS_STEP]),
        status: { ...midRollout, currentStepIndex: 1, canary: { currentStepAnalysisRun: { name: "web-new-step1" } } },
        analysisRuns: [stepRun("Inconclusive")],
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [],
      status: { phase: "Paused", pauseConditions: [{ reason: "InconclusiveAnalysisRun", startTime: T0.toISOString() }] },
      events: ["AnalysisRunInconclusive", "RolloutPaused"],
    },
    {
      name: "background analysis starts at startingStep and a running one is left to measure",
      observed: observe({
        spec: spec(STEPS, {}, { analysis: { templates: [{ templateName: "slo" }], startingStep: 1 } }),
        status: {
          ...midRollout,
          currentStepIndex: 1,
          pauseConditions: [{ reason: "CanaryPauseStep", startTime: T0.toISOString() }],
        },
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [
        {
          type: "createAnalysisRun",
          name: "web-new-bg",
          role: "background",
          hash: "new",
          analysis: { templates: [{ templateName: "slo" }] },
        },
      ],
      status: { canary: { currentBackgroundAnalysisRun: { name: "web-new-bg" } } },
      events: [],
      requeue: 5000,
    },
    {
      name: "a run no longer wanted (the rollout completed) is terminated",
      observed: observe({
        templateHash: "old",
        status: { currentPodHash: "old", stableRS: "old", currentStepIndex: 4 },
        analysisRuns: [{ name: "web-new-bg", role: "background", hash: "new", phase: "Running", terminated: false }],
        replicaSets: [rs("old", 10)],
      }),
      actions: [{ type: "terminateAnalysisRun", name: "web-new-bg" }],
      status: { phase: "Healthy" },
      events: [],
    },
    {
      name: "Services: stable on the stable revision, canary on the new one once it exists",
      observed: observe({
        spec: spec(STEPS, {}, { stableService: "web-stable", canaryService: "web-canary" }),
        status: midRollout,
        services: { "web-stable": "old", "web-canary": "old" },
        replicaSets: [rs("new", 1, { available: 0 }), rs("old", 10)],
      }),
      actions: [
        { type: "scaleReplicaSet", name: "web-new", replicas: 2 },
        { type: "setServiceSelector", service: "web-canary", hash: "new" },
      ],
      status: { currentStepIndex: 0 },
      events: [],
    },
    {
      name: "after an abort the canary Service follows stable",
      observed: observe({
        spec: spec(STEPS, {}, { stableService: "web-stable", canaryService: "web-canary" }),
        status: { ...midRollout, abort: true, abortedAt: T0.toISOString() },
        services: { "web-stable": "old", "web-canary": "new" },
        replicaSets: [rs("new", 2), rs("old", 10)],
      }),
      actions: [{ type: "setServiceSelector", service: "web-canary", hash: "old" }],
      status: { phase: "Degraded" },
      events: [],
      requeue: 10_000,
    },
    {
      name: "a gate first is a pre-rollout hook: called before any canary pod, forgetting the last revision's result",
      observed: observe({
        spec: spec(GATE_STEPS),
        status: {
          currentPodHash: "old",
          stableRS: "old",
          currentStepIndex: 3,
          canary: { currentGate: { name: "load-test", stepIndex: 0, attempts: 1, phase: "Passed" } },
        },
        replicaSets: [rs("old", 10)],
      }),
      actions: [
        { type: "callGate", name: "load-test", url: LOAD_TEST.url, stepIndex: 0, timeoutMs: 10_000, attempt: 1 },
        { type: "createReplicaSet", hash: "new", revision: 2, replicas: 0 },
      ],
      status: {
        currentStepIndex: 0,
        phase: "Progressing",
        canary: {
          currentGate: { name: "load-test", stepIndex: 0, attempts: 1, phase: "Pending", lastAttemptAt: T0.toISOString() },
        },
      },
      events: ["RolloutUpdated"],
      requeue: 12_000,
    },
    {
      name: "a gate call in flight is not made again",
      observed: observe({ spec: spec(GATE_STEPS), now: at(3), status: atGate({}), replicaSets: [rs("new", 2), rs("old", 8)] }),
      actions: [],
      status: { currentStepIndex: 2, phase: "Progressing" },
      events: [],
      requeue: 4000,
    },
    {
      name: "a passed gate completes its step",
      observed: observe({
        spec: spec([...GATE_STEPS, { setWeight: 50 }]),
        status: atGate({ phase: "Passed" }),
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 5 }],
      status: { currentStepIndex: 3, canary: { currentGate: { ...CONFIRM_AT, attempts: 1, phase: "Passed" } } },
      events: ["StepCompleted"],
    },
    {
      name: "a failed gate call waits out retryDelay",
      observed: observe({
        spec: spec(GATE_STEPS),
        now: at(1),
        status: atGate({ phase: "Failed" }),
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [],
      status: { currentStepIndex: 2, phase: "Progressing" },
      events: [],
      requeue: 1000,
    },
    {
      name: "a failed gate call is made again after retryDelay",
      observed: observe({
        spec: spec(GATE_STEPS),
        now: at(2),
        status: atGate({ phase: "Failed" }),
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [callConfirm(2)],
      status: { canary: { currentGate: { ...CONFIRM_AT, attempts: 2, phase: "Pending", lastAttemptAt: at(2).toISOString() } } },
      events: [],
      requeue: 7000,
    },
    {
      name: "a Pending call with no result long past its timeout (its controller died) is made again",
      observed: observe({ spec: spec(GATE_STEPS), now: at(8), status: atGate({}), replicaSets: [rs("new", 2), rs("old", 8)] }),
      actions: [callConfirm(2)],
      status: { canary: { currentGate: { ...CONFIRM_AT, attempts: 2, phase: "Pending" } } },
      events: [],
      requeue: 7000,
    },
    {
      name: "the last failed call pauses with GateFailed",
      observed: observe({
        spec: spec(GATE_STEPS),
        now: at(9),
        status: atGate({ phase: "Failed", attempts: 2, message: "HTTP 500" }),
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [],
      status: {
        currentStepIndex: 2,
        phase: "Paused",
        pauseConditions: [{ reason: "GateFailed", startTime: at(9).toISOString() }],
      },
      events: ["GateFailed", "RolloutPaused"],
    },
    {
      name: "a gate whose call the outbound policy refused pauses at once, retries left or not",
      observed: observe({
        spec: spec(GATE_STEPS),
        now: at(1),
        status: atGate({ phase: "Error", attempts: 1, code: "DESTINATION_NOT_ALLOWED", message: "http://169.254.169.254 ..." }),
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [],
      status: {
        currentStepIndex: 2,
        phase: "Paused",
        pauseConditions: [{ reason: "GateFailed", startTime: at(1).toISOString() }],
      },
      events: ["GateFailed", "RolloutPaused"],
    },
    {
      name: "paused at a failed gate holds without calling again",
      observed: observe({
        spec: spec(GATE_STEPS),
        now: at(60),
        status: {
          ...atGate({ phase: "Failed", attempts: 2 }),
          pauseConditions: [{ reason: "GateFailed", startTime: T0.toISOString() }],
        },
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [],
      status: { currentStepIndex: 2, phase: "Paused" },
      events: [],
    },
    {
      name: "a gate with onFailure abort is a rollback hook",
      observed: observe({
        spec: spec([{ setWeight: 20 }, { setWeight: 30 }, { gate: { ...CONFIRM, retries: 0, onFailure: "abort" } }]),
        now: at(9),
        status: atGate({ phase: "Failed", message: "HTTP 503" }),
        replicaSets: [rs("new", 2), rs("old", 8)],
      }),
      actions: [{ type: "scaleReplicaSet", name: "web-old", replicas: 10 }],
      status: { abort: true, phase: "Degraded" },
      events: ["GateFailed", "RolloutAborted"],
      requeue: 10_000,
    },
  ])("$name", ({ observed, actions, status, events: expectedEvents, requeue }) => {
    const plan = planCanary(observed);
    expect(changes(plan)).toEqual(actions);
    expect(plan.status).toMatchObject(status);
    expect(events(plan)).toEqual(expectedEvents);
    expect(plan.requeueAfterMs).toBe(requeue);
  });
});

describe("planCanary: a baseline beside the canary", () => {
  const withBaseline = spec(STEPS, {}, { baseline: { enabled: true } });
  const baseline = (replicas: number, extra: Partial<ObservedReplicaSet> = {}) => rs("new-baseline", replicas, extra);
  const create = (replicas: number): Action => ({
    type: "createBaselineReplicaSet",
    hash: "new-baseline",
    fromHash: "old",
    replicas,
  });
  it.each<{ name: string; observed: Partial<Observed>; actions: Action[]; status: Partial<RolloutStatus>; events: string[] }>([
    {
      name: "a new revision: the baseline is made with the canary, as many pods, from the stable revision",
      observed: { status: { currentPodHash: "old", stableRS: "old", currentStepIndex: 4 }, replicaSets: [rs("old", 10)] },
      actions: [{ type: "createReplicaSet", hash: "new", revision: 2, replicas: 2 }, create(2)],
      status: { currentStepIndex: 0, phase: "Progressing" },
      events: ["RolloutUpdated"],
    },
    {
      name: "setWeight waits for the baseline's pods too",
      observed: { baselines: [baseline(2, { available: 1 })] },
      actions: [],
      status: { currentStepIndex: 0, phase: "Progressing" },
      events: [],
    },
    {
      name: "setWeight completes once canary and baseline are at their targets; the baseline stays",
      observed: { baselines: [baseline(2)] },
      actions: [],
      status: { currentStepIndex: 1, phase: "Paused" },
      events: ["StepCompleted", "RolloutPaused"],
    },
    {
      name: "the baseline grows with the canary, in the same reconcile",
      observed: { status: { ...midRollout, currentStepIndex: 2 }, baselines: [baseline(2)] },
      actions: [
        { type: "scaleReplicaSet", name: "web-new", replicas: 5 },
        { type: "scaleReplicaSet", name: "web-new-baseline", replicas: 5 },
      ],
      status: { currentStepIndex: 2 },
      events: [],
    },
    {
      name: "an earlier canary's baseline goes and this one's is made",
      observed: { baselines: [rs("older-baseline", 2)] },
      actions: [{ type: "deleteReplicaSet", name: "web-older-baseline" }, create(2)],
      status: { currentStepIndex: 0 },
      events: [],
    },
    {
      name: "aborted: the baseline goes at once",
      observed: { status: { ...midRollout, abort: true, abortedAt: T0.toISOString() }, baselines: [baseline(2)] },
      actions: [
        { type: "scaleReplicaSet", name: "web-old", replicas: 10 },
        { type: "deleteReplicaSet", name: "web-new-baseline" },
      ],
      status: { abort: true, phase: "Degraded" },
      events: [],
    },
    {
      name: "the steps are done: the baseline goes as the canary takes over",
      observed: {
        status: { ...midRollout, currentStepIndex: 4 },
        replicaSets: [rs("new", 5), rs("old", 5)],
        baselines: [baseline(5)],
      },
      actions: [
        { type: "scaleReplicaSet", name: "web-new", replicas: 8 },
        { type: "deleteReplicaSet", name: "web-new-baseline" },
      ],
      status: { currentStepIndex: 4, phase: "Progressing" },
      events: [],
    },
    {
      name: "stable again (back to the stable template): a leftover baseline goes",
      observed: {
        templateHash: "old",
        status: { currentPodHash: "old", stableRS: "old", currentStepIndex: 4 },
        replicaSets: [rs("old", 10)],
        baselines: [baseline(2)],
      },
      actions: [{ type: "deleteReplicaSet", name: "web-new-baseline" }],
      status: { phase: "Healthy" },
      events: [],
    },
  ])("$name", ({ observed, actions, status, events: expectedEvents }) => {
    const plan = planCanary(
      observe({ spec: withBaseline, status: midRollout, replicaSets: [rs("new", 2), rs("old", 8)], ...observed }),
    );
    expect(changes(plan)).toEqual(actions);
    expect(plan.status).toMatchObject(status);
    expect(events(plan)).toEqual(expectedEvents);
  });
});

describe("planCanary: rollbackWindow", () => {
  const BACKGROUND = { analysis: { templates: [{ templateName: "http-slo" }] } };
  const windowed = (revisions: number | undefined) =>
    spec(STEPS, revisions === undefined ? {} : { rollbackWindow: { revisions } }, BACKGROUND);
  // Revisions a (1), b (2), c (3, stable); the spec goes back to one of them.
  const history = [rs("a", 0, { revision: 1 }), rs("b", 0, { revision: 2 }), rs("c", 10, { revision: 3 })];
  const stableC: RolloutStatus = { currentPodHash: "c", stableRS: "c", currentStepIndex: 4 };
  const skipped = { currentStepIndex: 4, promoteFull: true };
  it.each<{
    name: string;
    window?: number;
    to: string;
    observed?: Partial<Observed>;
    status: Partial<RolloutStatus>;
    creates?: Action;
    says: RegExp;
  }>([
    {
      name: "back to the revision before stable, window 1: straight to 100%, no analysis",
      window: 1,
      to: "b",
      status: skipped,
      says: /rollback to revision 2 \(b\) within rollbackWindow; steps and analysis skipped/,
    },
    { name: "two back, window 2: skipped", window: 2, to: "a", status: skipped, says: /rollback to revision 1/ },
    {
      name: "two back, window 1: one revision between, the steps start",
      window: 1,
      to: "a",
      status: { currentStepIndex: 0 },
      says: /new revision a; starting 4 steps/,
    },
    { name: "no rollbackWindow: the steps start", to: "b", status: { currentStepIndex: 0 }, says: /starting 4 steps/ },
    { name: "window 0: the steps start", window: 0, to: "b", status: { currentStepIndex: 0 }, says: /starting 4 steps/ },
    {
      name: "a revision never seen is no rollback",
      window: 5,
      to: "fresh",
      status: { currentStepIndex: 0 },
      says: /new revision fresh/,
    },
    {
      name: "a revision newer than the stable one (rolled forward again) is no rollback",
      window: 5,
      to: "d",
      observed: { replicaSets: [...history, rs("d", 0, { revision: 4 })] },
      status: { currentStepIndex: 0 },
      says: /new revision d/,
    },
    {
      name: "a revision known by its saved template only: skipped, its ReplicaSet made again",
      window: 1,
      to: "b",
      observed: {
        replicaSets: [rs("a", 0, { revision: 1 }), rs("c", 10, { revision: 3 })],
        revisions: [{ name: "web-b", hash: "b", revision: 2 }],
      },
      status: skipped,
      creates: { type: "createReplicaSet", hash: "b", revision: 4, replicas: 3 },
      says: /rollback to revision 2/,
    },
  ])("$name", ({ window, to, observed, status, creates, says }) => {
    const plan = planCanary(
      observe({ spec: windowed(window), templateHash: to, status: stableC, replicaSets: history, ...observed }),
    );
    expect(plan.status).toMatchObject(status);
    const message = plan.actions.find((a) => a.type === "event" && a.reason === "RolloutUpdated");
    expect(message).toMatchObject({ message: expect.stringMatching(says) });
    const skippedAll = status.promoteFull === true;
    // Skipped: no AnalysisRun at all; walking the steps, background analysis starts at step 0.
    expect(plan.actions.some((a) => a.type === "createAnalysisRun")).toBe(!skippedAll);
    if (creates) expect(plan.actions).toContainEqual(creates);
  });

  it("once rolling back, later reconciles stay at 100% without analysis until stable", () => {
    const rolling = { currentPodHash: "b", stableRS: "c", ...skipped };
    const sets = [rs("a", 0, { revision: 1 }), rs("b", 10, { revision: 2 }), rs("c", 3, { revision: 3 })];
    const plan = planCanary(observe({ spec: windowed(1), templateHash: "b", status: rolling, replicaSets: sets }));
    expect(plan.actions.some((a) => a.type === "createAnalysisRun")).toBe(false);
    expect(plan.status).toMatchObject({ stableRS: "b", currentStepIndex: 4 });
    expect(events(plan)).toEqual(["RolloutCompleted"]);
  });
});

/** A pure stand-in for the cluster: applies a plan's actions; pods become available at once. */
function applyPlan(sets: ObservedReplicaSet[], plan: Plan): ObservedReplicaSet[] {
  let next = sets.map((s) => ({ ...s }));
  for (const a of plan.actions) {
    if (a.type === "createReplicaSet") next.push(rs(a.hash, a.replicas, { name: `web-${a.hash}`, revision: a.revision }));
    if (a.type === "scaleReplicaSet") next = next.map((s) => (s.name === a.name ? { ...s, replicas: a.replicas } : s));
    if (a.type === "setScaleDownAt")
      next = next.map((s) => (s.name === a.name ? { ...s, ...(a.at ? { scaleDownAt: a.at } : {}) } : s));
  }
  return next.map((s) => ({ ...s, current: s.replicas, ready: s.replicas, available: s.replicas }));
}

describe("planCanary: a whole rollout", () => {
  it.each([
    {
      name: "behind a stable Service: the old pods stay for scaleDownDelaySeconds",
      canary: { stableService: "web-stable" },
      delay: 30,
    },
    { name: "with no Service switched: the old pods go at once", canary: {}, delay: 0 },
  ])("walks 10 replicas through [20%, pause 5s, 50%, pause], promote and completion; $name", ({ canary, delay }) => {
    const walked = spec(STEPS, {}, canary);
    const services: Record<string, string> = canary.stableService ? { "web-stable": "old" } : {};
    let sets = [rs("old", 10)];
    let status: RolloutStatus = { currentPodHash: "old", stableRS: "old", currentStepIndex: 4 };
    let t = 0;
    const seen: string[] = [];
    const run = (until: (s: RolloutStatus) => boolean) => {
      for (let i = 0; i < 50 && !until(status); i++) {
        const plan = planCanary(observe({ spec: walked, services, now: at(t), status, replicaSets: sets }));
        sets = applyPlan(sets, plan);
        status = plan.status;
        seen.push(...events(plan));
        t += 1;
        const total = sets.reduce((n, s) => n + s.replicas, 0);
        expect(total).toBeLessThanOrEqual(13); // replicas + maxSurge (25% of 10, rounded up)
        expect(sets.reduce((n, s) => n + s.available, 0)).toBeGreaterThanOrEqual(10); // maxUnavailable 0
      }
    };
    run((s) => s.currentStepIndex === 3 && s.phase === "Paused");
    expect(sets.map((s) => [s.hash, s.replicas])).toEqual([
      ["old", 5],
      ["new", 5],
    ]);
    // ramp promote: past the indefinite pause.
    status = { ...status, currentStepIndex: 4, pauseConditions: [] };
    run((s) => s.phase === "Healthy");
    expect(status.stableRS).toBe("new");
    const completedAt = t;
    run((s) => s.phase === "Healthy" && sets.every((x) => x.hash === "new" || x.replicas === 0));
    expect(sets.find((s) => s.hash === "old")?.replicas).toBe(0);
    // One reconcile to scale down once nothing holds the pods (each reconcile here is a second).
    expect(t - completedAt).toBeGreaterThanOrEqual(delay);
    expect(t - completedAt).toBeLessThanOrEqual(delay + 2);
    expect(seen).toEqual(
      expect.arrayContaining(["RolloutUpdated", "StepCompleted", "RolloutPaused", "RolloutResumed", "RolloutCompleted"]),
    );
  });
});

describe("planCanary: an errorBudget step holds while the budget is spent", () => {
  const BUDGET = { templates: [{ templateName: "budget" }] };
  const BUDGET_STEPS = [{ setWeight: 20 }, { errorBudget: { ...BUDGET, recheckInterval: "30s" } }, { setWeight: 50 }];
  const sets = [rs("new", 2), rs("old", 8)];
  const held = { reason: "ErrorBudgetSpent", startTime: T0.toISOString() };
  const spent = {
    stepIndex: 1,
    checks: 1,
    spentSince: T0.toISOString(),
    recheckAt: at(30).toISOString(),
    code: "ERROR_BUDGET_SPENT",
  };
  const atBudget = (canary: NonNullable<RolloutStatus["canary"]>, paused = true): RolloutStatus => ({
    ...midRollout,
    currentStepIndex: 1,
    ...(paused ? { pauseConditions: [held] } : {}),
    canary,
  });
  const run = (name: string, phase: ObservedAnalysisRun["phase"]) => ({ ...stepRun(phase), name });
  it.each<{
    name: string;
    now?: Date;
    status: RolloutStatus;
    runs: ObservedAnalysisRun[];
    actions: Action[];
    expected: RolloutStatus;
    events: string[];
    requeue?: number;
  }>([
    {
      name: "reaching the step starts the first check",
      status: { ...midRollout, currentStepIndex: 1 },
      runs: [],
      actions: [{ type: "createAnalysisRun", name: "web-new-step1", role: "step", hash: "new", stepIndex: 1, analysis: BUDGET }],
      expected: { phase: "Progressing", canary: { errorBudget: { stepIndex: 1, checks: 1 } } },
      events: [],
    },
    {
      name: "a spent budget holds: paused ErrorBudgetSpent, checked again after recheckInterval",
      status: atBudget({ currentStepAnalysisRun: { name: "web-new-step1" }, errorBudget: { stepIndex: 1, checks: 1 } }, false),
      runs: [{ ...stepRun("Failed"), message: 'metric "budget" Failed' }],
      actions: [],
      expected: { phase: "Paused", currentStepIndex: 1, pauseConditions: [held], canary: { errorBudget: spent } },
      events: ["AnalysisRunFailed", "RolloutPaused"],
      requeue: 30_000,
    },
    {
      name: "a budget that cannot be measured (Error) holds too: a freeze fails closed",
      status: atBudget({ currentStepAnalysisRun: { name: "web-new-step1" }, errorBudget: { stepIndex: 1, checks: 1 } }, false),
      runs: [stepRun("Error")],
      actions: [],
      expected: { phase: "Paused", pauseConditions: [held], canary: { errorBudget: spent } },
      events: ["AnalysisRunError", "RolloutPaused"],
      requeue: 30_000,
    },
    {
      name: "held before recheckAt: nothing is created, the wait is a requeue (no hot loop)",
      now: at(10),
      status: atBudget({ currentStepAnalysisRun: { name: "web-new-step1", phase: "Failed" }, errorBudget: spent }),
      runs: [stepRun("Failed")],
      actions: [],
      expected: { phase: "Paused", pauseConditions: [held], canary: { errorBudget: spent } },
      events: [],
      requeue: 20_000,
    },
    {
      name: "at recheckAt a fresh run checks again, still held",
      now: at(30),
      status: atBudget({ currentStepAnalysisRun: { name: "web-new-step1", phase: "Failed" }, errorBudget: spent }),
      runs: [stepRun("Failed")],
      actions: [
        { type: "createAnalysisRun", name: "web-new-step1.2", role: "step", hash: "new", stepIndex: 1, analysis: BUDGET },
      ],
      expected: {
        phase: "Paused",
        pauseConditions: [held],
        canary: {
          currentStepAnalysisRun: { name: "web-new-step1.2" },
          errorBudget: { stepIndex: 1, checks: 2, spentSince: T0.toISOString(), code: "ERROR_BUDGET_SPENT" },
        },
      },
      events: [],
    },
    {
      name: "a recovered budget releases the hold and the steps go on",
      now: at(40),
      status: atBudget({
        currentStepAnalysisRun: { name: "web-new-step1.2" },
        errorBudget: { stepIndex: 1, checks: 2, spentSince: T0.toISOString(), code: "ERROR_BUDGET_SPENT" },
      }),
      runs: [stepRun("Failed"), run("web-new-step1.2", "Successful")],
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 5 }],
      expected: {
        phase: "Progressing",
        currentStepIndex: 2,
        pauseConditions: [],
        canary: {
          currentStepAnalysisRun: { name: "web-new-step1.2", phase: "Successful" },
          errorBudget: { stepIndex: 1, checks: 2 },
        },
      },
      events: ["AnalysisRunSuccessful", "ErrorBudgetAvailable", "StepCompleted"],
    },
    {
      name: "a budget available at the first check never pauses",
      status: atBudget({ currentStepAnalysisRun: { name: "web-new-step1" }, errorBudget: { stepIndex: 1, checks: 1 } }, false),
      runs: [stepRun("Successful")],
      actions: [{ type: "scaleReplicaSet", name: "web-new", replicas: 5 }],
      expected: { phase: "Progressing", currentStepIndex: 2 },
      events: ["AnalysisRunSuccessful", "StepCompleted"],
    },
  ])("$name", ({ now, status, runs, actions, expected, events: expectedEvents, requeue }) => {
    const plan = planCanary(observe({ spec: spec(BUDGET_STEPS), now: now ?? T0, status, analysisRuns: runs, replicaSets: sets }));
    expect(changes(plan)).toEqual(actions);
    expect(plan.status).toMatchObject(expected);
    expect(events(plan)).toEqual(expectedEvents);
    expect(plan.requeueAfterMs).toBe(requeue);
    if (plan.status.pauseConditions?.length) expect(plan.status.message).toMatch(/error budget spent/);
  });
});

describe("planCanary: the router's verdict (Observed.trafficVerified)", () => {
  const routed = spec([{ setWeight: 20 }, { pause: {} }], {}, { trafficRouting: { gatewayAPI: { httpRoute: "web" } } });
  const replicaSets = [rs("old", 10), rs("new", 2)];
  // A rollout paused at 20%, as the last reconcile left it and told the router.
  const told = planCanary(observe({ spec: routed, replicaSets, status: midRollout })).status;
  const toldAgain = planCanary(observe({ spec: routed, replicaSets, status: told })).status;

  it.each<{
    name: string;
    status: RolloutStatus;
    trafficVerified: boolean | undefined;
    verified: boolean | undefined;
    soon: boolean;
  }>([
    { name: "accepted what it was told: verified", status: toldAgain, trafficVerified: true, verified: true, soon: false },
    { name: "not accepted yet: looked at again soon", status: toldAgain, trafficVerified: false, verified: false, soon: true },
    {
      name: "a router that cannot tell: nothing said",
      status: toldAgain,
      trafficVerified: undefined,
      verified: undefined,
      soon: false,
    },
    {
      name: "weights changed this reconcile: not verified yet, whatever it said of the old ones",
      status: midRollout,
      trafficVerified: true,
      verified: false,
      soon: true,
    },
  ])("$name", ({ status, trafficVerified, verified, soon }) => {
    const plan = planCanary(
      observe({ spec: routed, replicaSets, status, ...(trafficVerified !== undefined ? { trafficVerified } : {}) }),
    );
    expect(plan.status.canary?.weights?.verified).toBe(verified);
    expect(plan.status.canary?.weights?.canary.weight).toBe(20);
    expect(plan.requeueAfterMs !== undefined && plan.requeueAfterMs <= 5_000).toBe(soon);
  });

  it.each([
    {
      name: "a header route",
      step: { setHeaderRoute: { name: "beta", match: [{ headerName: "x-beta", headerValue: { exact: "1" } }] } },
    },
    {
      name: "a mirror route",
      step: { setMirrorRoute: { name: "shadow", percentage: 10, match: [{ path: { prefix: "/api" } }] } },
    },
  ])("a step that changes only $name, not the weights: not verified yet, whatever it said of the old routes", ({ step }) => {
    const withRoute = spec(
      [{ setWeight: 20 }, { pause: { duration: "5s" } }, step, { pause: {} }],
      {},
      {
        trafficRouting: { gatewayAPI: { httpRoute: "web" } },
      },
    );
    // Paused at 20% for 5 s, as the last reconcile left it and told the router (no routes of its own yet).
    const paused = planCanary(observe({ spec: withRoute, replicaSets, status: midRollout })).status;
    const plan = planCanary(observe({ spec: withRoute, replicaSets, status: paused, trafficVerified: true, now: at(10) }));
    expect(plan.status.currentStepIndex).toBe(3);
    expect([...(plan.traffic?.headerRoutes ?? []), ...(plan.traffic?.mirrorRoutes ?? [])]).toHaveLength(1);
    expect(plan.status.canary?.weights?.canary.weight).toBe(20);
    expect(plan.status.canary?.weights?.verified).toBe(false);
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(5_000);
    // Told once, the routes stay: the router's verdict counts again.
    const again = planCanary(observe({ spec: withRoute, replicaSets, status: plan.status, trafficVerified: true, now: at(11) }));
    expect(again.status.canary?.weights?.verified).toBe(true);
  });
});

describe("planCanary: the canary Service's endpoints (Observed.canaryEndpoints)", () => {
  const routed = spec(
    [{ setWeight: 20 }, { pause: {} }],
    {},
    { stableService: "web-stable", canaryService: "web-canary", trafficRouting: { gatewayAPI: { httpRoute: "web" } } },
  );
  const replicaSets = [rs("old", 10), rs("new", 2)];
  const services = { "web-stable": "old", "web-canary": "new" };
  const pausedAt20 = planCanary(observe({ spec: routed, replicaSets, services, status: midRollout })).status;

  // Two canary pods available: the 20% step needs both in the canary Service before it sends traffic.
  it.each<{ name: string; status: RolloutStatus; endpoints: number | undefined; weight: number; step: number; soon: boolean }>([
    {
      name: "not told (no router, or names that cannot tell): the ReplicaSet decides",
      status: midRollout,
      endpoints: undefined,
      weight: 20,
      step: 1,
      soon: false,
    },
    {
      name: "none ready yet: no traffic, the step waits, looked at again soon",
      status: midRollout,
      endpoints: 0,
      weight: 0,
      step: 0,
      soon: true,
    },
    { name: "one of two: still waits", status: midRollout, endpoints: 1, weight: 0, step: 0, soon: true },
    { name: "both: the weight moves and the step ends", status: midRollout, endpoints: 2, weight: 20, step: 1, soon: false },
    {
      name: "one lost while paused: the weight it has stays, no timer",
      status: pausedAt20,
      endpoints: 1,
      weight: 20,
      step: 1,
      soon: false,
    },
  ])("$name", ({ status, endpoints, weight, step, soon }) => {
    const plan = planCanary(
      observe({
        spec: routed,
        replicaSets,
        services,
        status,
        ...(endpoints !== undefined ? { canaryEndpoints: endpoints } : {}),
      }),
    );
    expect(plan.traffic?.weight).toBe(weight);
    expect(plan.status.canary?.weights?.canary.weight).toBe(weight);
    expect(plan.status.currentStepIndex).toBe(step);
    expect(plan.requeueAfterMs !== undefined && plan.requeueAfterMs <= 5_000).toBe(soon);
    if (step === 0)
      expect(plan.status.message).toBe('step 1 of 2: canary at 0%, waiting for the endpoints of Service "web-canary"');
  });
});

describe("planCanary: retry", () => {
  const cases = retryCases({
    aborted: {
      ...midRollout,
      currentStepIndex: 2,
      abort: true,
      abortedAt: T0.toISOString(),
      pauseConditions: [{ reason: "CanaryPauseStep", startTime: T0.toISOString() }],
      canary: { currentStepAnalysisRun: { name: "web-new-step1", phase: "Failed" } },
    },
    retryDoes: "the steps start again with fresh analysis",
    retried: { currentStepIndex: 0, phase: "Progressing" },
    alsoCleared: ["pauseConditions"],
    stillAborted: { currentStepIndex: 2 },
  });
  it.each<RetryCase>([
    ...cases,
    {
      name: "a retry asked of a rollout that is not aborted is dropped: the steps go on",
      status: { ...midRollout, currentStepIndex: 2, retry: true },
      expected: { currentStepIndex: 2, phase: "Progressing" },
      events: [],
      cleared: ["retry"],
    },
  ])("$name", (retryCase) => {
    const plan = planCanary(observe({ status: retryCase.status, replicaSets: [rs("new", 0), rs("old", 10)] }));
    expect(plan.status).toMatchObject(retryCase.expected);
    expect(events(plan)).toEqual(retryCase.events);
    for (const field of retryCase.cleared) expect(plan.status[field], field).toBeUndefined();
    if (retryCase.events.length) expect(plan.status.canary?.currentStepAnalysisRun).toBeUndefined();
  });
});
