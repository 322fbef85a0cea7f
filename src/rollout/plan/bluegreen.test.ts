import { describe, expect, it } from "vitest";
import { type RolloutStatus, rolloutSpec } from "../../api/rollout.ts";
import { planBlueGreen } from "./bluegreen.ts";
import { at, changes, events, replicaSet, retryCases, T0 } from "./fixtures.ts";
import type { Action, Observed, ObservedAnalysisRun, ObservedReplicaSet } from "./types.ts";

const ACTIVE = "web-active";
const PREVIEW = "web-preview";
const SMOKE = { templates: [{ templateName: "smoke" }] };
const SLO = { templates: [{ templateName: "http-slo" }] };

const spec = (blueGreen: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  rolloutSpec.parse({
    replicas: 4,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
    strategy: {
      blueGreen: {
        activeService: ACTIVE,
        previewService: PREVIEW,
        previewReplicaCount: 2,
        autoPromotionEnabled: false,
        scaleDownDelaySeconds: 30,
        abortScaleDownDelaySeconds: 10,
        ...blueGreen,
      },
    },
    ...extra,
  });

const rs = replicaSet;

const run = (role: "prePromotion" | "postPromotion", phase: ObservedAnalysisRun["phase"]): ObservedAnalysisRun => ({
  name: `web-new-${role === "prePromotion" ? "pre" : "post"}`,
  role,
  hash: "new",
  ...(phase ? { phase } : {}),
  terminated: false,
});

const since = (seconds: number) => at(seconds).toISOString();

/** The new revision in preview: the preview Service on it, active on stable. */
const previewing: RolloutStatus = {
  currentPodHash: "new",
  stableRS: "old",
  blueGreen: { activeSelector: "old", previewSelector: "new" },
};
const promoted: RolloutStatus = {
  ...previewing,
  controllerPause: true,
  blueGreen: { ...previewing.blueGreen, scaleUpPreviewCheckPoint: true },
};
const switched: RolloutStatus = {
  ...promoted,
  blueGreen: { activeSelector: "new", previewSelector: "new", scaleUpPreviewCheckPoint: true },
};
const waitingForPromote: RolloutStatus = {
  ...previewing,
  controllerPause: true,
  pauseConditions: [{ reason: "BlueGreenPause", startTime: T0.toISOString() }],
};

const GATE = { name: "confirm", url: "https://confirm.example/ok" };
const gateAt = (phase: "Pending" | "Passed" | "Failed", attempts: number): RolloutStatus => ({
  ...previewing,
  blueGreen: {
    ...previewing.blueGreen,
    currentGate: { name: "confirm", stepIndex: 0, attempts, phase, lastAttemptAt: T0.toISOString() },
  },
});

const observe = (o: Partial<Observed> & Pick<Observed, "replicaSets" | "status">): Observed => ({
  name: "web",
  generation: 1,
  analysisRuns: [],
  revisions: [],
  services: { [ACTIVE]: "old", [PREVIEW]: "new" },
  spec: spec(),
  templateHash: "new",
  now: T0,
  ...o,
});

const select = (service: string, hash: string): Action => ({ type: "setServiceSelector", service, hash });
const scale = (hash: string, replicas: number): Action => ({ type: "scaleReplicaSet", name: `web-${hash}`, replicas });

describe("planBlueGreen: one decision at a time", () => {
  it.each([
    {
      name: "its template saved: recreated at full size beside the preview",
      revisions: [{ name: "web-old", hash: "old", revision: 1 }],
      create: true,
    },
    { name: "no template saved: nothing can be made", revisions: [], create: false },
  ])("stable ReplicaSet deleted while previewing, $name", ({ revisions, create }) => {
    const plan = planBlueGreen(observe({ status: previewing, replicaSets: [rs("new", 2)], revisions }));
    const made: Action[] = create
      ? [{ type: "createReplicaSet", hash: "old", revision: 1, replicas: 4, fromRevision: "web-old" }]
      : [];
    expect(changes(plan)).toEqual(made);
    expect(events(plan).includes("StableReplicaSetRecreated")).toBe(create);
  });

  it.each<{
    name: string;
    observed: Observed;
    actions: Action[];
    status: Partial<RolloutStatus>;
    events: string[];
    requeue?: number;
    /** Status fields the plan must have cleared. */
    cleared?: (keyof RolloutStatus)[];
  }>([
    {
      name: "the first revision is created at full size and is stable at once; no Service points at it before it has pods",
      observed: observe({ status: {}, replicaSets: [], services: { [ACTIVE]: null, [PREVIEW]: null } }),
      actions: [{ type: "createReplicaSet", hash: "new", revision: 1, replicas: 4 }],
      status: { stableRS: "new", currentPodHash: "new", phase: "Progressing", blueGreen: {} },
      events: ["RolloutUpdated"],
    },
    {
      name: "the first revision's pods are all available: both Services point at it, each only if it differs",
      observed: observe({
        status: { currentPodHash: "new", stableRS: "new" },
        replicaSets: [rs("new", 4)],
        services: { [ACTIVE]: null, [PREVIEW]: "new" },
      }),
      actions: [select(ACTIVE, "new")],
      status: { phase: "Healthy", blueGreen: { activeSelector: "new", previewSelector: "new" } },
      events: [],
    },
    {
      name: "the preview Service follows the new revision once it has an available pod; active stays on stable",
      observed: observe({
        status: { ...previewing, blueGreen: { activeSelector: "old", previewSelector: "old" } },
        services: { [ACTIVE]: "old", [PREVIEW]: "old" },
        replicaSets: [rs("new", 2, { available: 1 }), rs("old", 4)],
      }),
      actions: [select(PREVIEW, "new")],
      status: { phase: "Progressing", blueGreen: { activeSelector: "old", previewSelector: "new" } },
      events: [],
    },
    {
      name: "no Service points at the new revision while it has no available pod",
      observed: observe({
        status: { ...previewing, blueGreen: { activeSelector: "old", previewSelector: "old" } },
        services: { [ACTIVE]: "old", [PREVIEW]: "old" },
        replicaSets: [rs("new", 2, { available: 0 }), rs("old", 4)],
      }),
      actions: [],
      status: { phase: "Progressing", blueGreen: { activeSelector: "old", previewSelector: "old" } },
      events: [],
    },
    {
      name: "preview pods all available: pre-promotion analysis starts and holds the promotion",
      observed: observe({
        spec: spec({ prePromotionAnalysis: SMOKE }),
        status: previewing,
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [{ type: "createAnalysisRun", name: "web-new-pre", role: "prePromotion", hash: "new", analysis: SMOKE }],
      status: { phase: "Progressing", blueGreen: { activeSelector: "old", prePromotionAnalysisRun: { name: "web-new-pre" } } },
      events: [],
    },
    {
      name: "pre-promotion analysis passed and promotion is manual: BlueGreenPause with controllerPause",
      observed: observe({
        spec: spec({ prePromotionAnalysis: SMOKE }),
        status: { ...previewing, blueGreen: { ...previewing.blueGreen, prePromotionAnalysisRun: { name: "web-new-pre" } } },
        analysisRuns: [run("prePromotion", "Successful")],
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [],
      status: {
        phase: "Paused",
        controllerPause: true,
        pauseConditions: [{ reason: "BlueGreenPause", startTime: T0.toISOString() }],
      },
      events: ["AnalysisRunSuccessful", "RolloutPaused"],
    },
    {
      name: "failed pre-promotion analysis aborts: the preview Service goes back to stable, the preview pods stay for the delay",
      observed: observe({
        spec: spec({ prePromotionAnalysis: SMOKE }),
        status: { ...previewing, blueGreen: { ...previewing.blueGreen, prePromotionAnalysisRun: { name: "web-new-pre" } } },
        analysisRuns: [run("prePromotion", "Failed")],
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [select(PREVIEW, "old")],
      status: {
        abort: true,
        abortedAt: T0.toISOString(),
        phase: "Degraded",
        blueGreen: {
          activeSelector: "old",
          previewSelector: "old",
          prePromotionAnalysisRun: { name: "web-new-pre", phase: "Failed" },
        },
      },
      events: ["AnalysisRunFailed", "RolloutAborted"],
      requeue: 10_000,
    },
    {
      name: "inconclusive pre-promotion analysis pauses for a person",
      observed: observe({
        spec: spec({ prePromotionAnalysis: SMOKE }),
        status: { ...previewing, blueGreen: { ...previewing.blueGreen, prePromotionAnalysisRun: { name: "web-new-pre" } } },
        analysisRuns: [run("prePromotion", "Inconclusive")],
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [],
      status: { phase: "Paused", pauseConditions: [{ reason: "InconclusiveAnalysisRun", startTime: T0.toISOString() }] },
      events: ["AnalysisRunInconclusive", "RolloutPaused"],
    },
    {
      name: "the manual pause holds until promoted",
      observed: observe({ now: at(600), status: waitingForPromote, replicaSets: [rs("new", 2), rs("old", 4)] }),
      actions: [],
      status: { phase: "Paused", blueGreen: { activeSelector: "old", previewSelector: "new" } },
      events: [],
    },
    {
      name: "promoted (pause conditions cleared, controllerPause left): the new revision grows to full size first",
      observed: observe({ status: { ...waitingForPromote, pauseConditions: [] }, replicaSets: [rs("new", 2), rs("old", 4)] }),
      actions: [scale("new", 4)],
      status: { phase: "Progressing", stableRS: "old", blueGreen: { activeSelector: "old", scaleUpPreviewCheckPoint: true } },
      events: [],
    },
    {
      name: "the active Service waits while the new revision has 3 of 4 pods available",
      observed: observe({ status: promoted, replicaSets: [rs("new", 4, { available: 3 }), rs("old", 4)] }),
      actions: [],
      status: { phase: "Progressing", blueGreen: { activeSelector: "old" } },
      events: [],
    },
    {
      name: "all new pods available: the active Service switches; stable stays the old revision with its pods",
      observed: observe({ status: promoted, replicaSets: [rs("new", 4), rs("old", 4)] }),
      actions: [select(ACTIVE, "new")],
      status: { stableRS: "old", blueGreen: { activeSelector: "new", previewSelector: "new" } },
      events: ["RolloutPromoted"],
    },
    {
      name: "the switch seen on the Service: post-promotion analysis starts and the old pods stay",
      observed: observe({
        spec: spec({ postPromotionAnalysis: SLO }),
        status: switched,
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [{ type: "createAnalysisRun", name: "web-new-post", role: "postPromotion", hash: "new", analysis: SLO }],
      status: { stableRS: "old", phase: "Progressing", blueGreen: { postPromotionAnalysisRun: { name: "web-new-post" } } },
      events: [],
    },
    {
      name: "post-promotion analysis passed: the new revision is stable and the old pods go after the delay",
      observed: observe({
        spec: spec({ postPromotionAnalysis: SLO }),
        status: { ...switched, blueGreen: { ...switched.blueGreen, postPromotionAnalysisRun: { name: "web-new-post" } } },
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        analysisRuns: [run("postPromotion", "Successful")],
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [{ type: "setScaleDownAt", name: "web-old", at: since(30) }],
      status: { stableRS: "new", phase: "Healthy", blueGreen: { activeSelector: "new", previewSelector: "new" } },
      events: ["AnalysisRunSuccessful", "RolloutCompleted"],
      requeue: 30_000,
      cleared: ["controllerPause", "pauseConditions"],
    },
    {
      name: "inconclusive post-promotion analysis pauses for a person; stable stays the old revision",
      observed: observe({
        spec: spec({ postPromotionAnalysis: SLO }),
        status: { ...switched, blueGreen: { ...switched.blueGreen, postPromotionAnalysisRun: { name: "web-new-post" } } },
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        analysisRuns: [run("postPromotion", "Inconclusive")],
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [],
      status: {
        stableRS: "old",
        phase: "Paused",
        pauseConditions: [{ reason: "InconclusiveAnalysisRun", startTime: T0.toISOString() }],
      },
      events: ["AnalysisRunInconclusive", "RolloutPaused"],
    },
    {
      name: "promoted past an inconclusive post-promotion analysis: the new revision is stable",
      observed: observe({
        spec: spec({ postPromotionAnalysis: SLO }),
        status: {
          ...switched,
          pauseConditions: [],
          blueGreen: { ...switched.blueGreen, postPromotionAnalysisRun: { name: "web-new-post", phase: "Inconclusive" } },
        },
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        analysisRuns: [run("postPromotion", "Inconclusive")],
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [{ type: "setScaleDownAt", name: "web-old", at: since(30) }],
      status: { stableRS: "new", phase: "Healthy" },
      events: ["RolloutCompleted"],
      requeue: 30_000,
    },
    {
      name: "with no post-promotion analysis it completes once the switch is seen",
      observed: observe({
        status: switched,
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [{ type: "setScaleDownAt", name: "web-old", at: since(30) }],
      status: { stableRS: "new", phase: "Healthy" },
      events: ["RolloutCompleted"],
      requeue: 30_000,
    },
    {
      name: "the old revision keeps its pods until its scale-down time",
      observed: observe({
        now: at(10),
        status: { currentPodHash: "new", stableRS: "new", blueGreen: { activeSelector: "new", previewSelector: "new" } },
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        replicaSets: [rs("new", 4), rs("old", 4, { scaleDownAt: since(30) })],
      }),
      actions: [],
      status: { phase: "Healthy" },
      events: [],
      requeue: 20_000,
    },
    {
      name: "past its scale-down time the old revision goes to zero",
      observed: observe({
        now: at(31),
        status: { currentPodHash: "new", stableRS: "new", blueGreen: { activeSelector: "new", previewSelector: "new" } },
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        replicaSets: [rs("new", 4), rs("old", 4, { scaleDownAt: since(30) })],
      }),
      actions: [scale("old", 0)],
      status: { phase: "Healthy" },
      events: [],
    },
    {
      name: "failed post-promotion analysis aborts: both Services back on stable at once, the new pods stay for the delay",
      observed: observe({
        spec: spec({ postPromotionAnalysis: SLO }),
        status: { ...switched, blueGreen: { ...switched.blueGreen, postPromotionAnalysisRun: { name: "web-new-post" } } },
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        analysisRuns: [run("postPromotion", "Failed")],
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [select(ACTIVE, "old"), select(PREVIEW, "old")],
      status: { abort: true, stableRS: "old", phase: "Degraded", blueGreen: { activeSelector: "old", previewSelector: "old" } },
      events: ["AnalysisRunFailed", "RolloutAborted"],
      requeue: 10_000,
    },
    {
      name: "`ramp abort` during the preview: the preview Service back on stable, RolloutAborted once",
      observed: observe({ status: { ...waitingForPromote, abort: true }, replicaSets: [rs("new", 2), rs("old", 4)] }),
      actions: [select(PREVIEW, "old")],
      status: { phase: "Degraded", abortedAt: T0.toISOString(), blueGreen: { activeSelector: "old", previewSelector: "old" } },
      events: ["RolloutAborted"],
      requeue: 10_000,
    },
    {
      name: "aborted and the delay not over: nothing more happens",
      observed: observe({
        now: at(5),
        status: {
          ...previewing,
          abort: true,
          abortedAt: T0.toISOString(),
          blueGreen: { activeSelector: "old", previewSelector: "old" },
        },
        services: { [ACTIVE]: "old", [PREVIEW]: "old" },
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [],
      status: { phase: "Degraded" },
      events: [],
      requeue: 5000,
    },
    {
      name: "aborted and the delay over: the new pods go",
      observed: observe({
        now: at(11),
        status: {
          ...previewing,
          abort: true,
          abortedAt: T0.toISOString(),
          blueGreen: { activeSelector: "old", previewSelector: "old" },
        },
        services: { [ACTIVE]: "old", [PREVIEW]: "old" },
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [scale("new", 0)],
      status: { phase: "Degraded" },
      events: [],
    },
    {
      name: "promoteFull skips the analysis (terminating the run) and the pause",
      observed: observe({
        spec: spec({ prePromotionAnalysis: SMOKE }),
        status: {
          ...previewing,
          promoteFull: true,
          blueGreen: { ...previewing.blueGreen, prePromotionAnalysisRun: { name: "web-new-pre" } },
        },
        analysisRuns: [run("prePromotion", "Running")],
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [scale("new", 4), { type: "terminateAnalysisRun", name: "web-new-pre" }],
      status: { phase: "Progressing", blueGreen: { activeSelector: "old", scaleUpPreviewCheckPoint: true } },
      events: [],
    },
    {
      name: "autoPromotionSeconds: ready in preview pauses and looks again when they are over",
      observed: observe({
        spec: spec({ autoPromotionEnabled: true, autoPromotionSeconds: 60 }),
        status: previewing,
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [],
      status: { phase: "Paused", pauseConditions: [{ reason: "BlueGreenPause", startTime: T0.toISOString() }] },
      events: ["RolloutPaused"],
      requeue: 60_000,
    },
    {
      name: "autoPromotionSeconds over: promotes by itself",
      observed: observe({
        now: at(60),
        spec: spec({ autoPromotionEnabled: true, autoPromotionSeconds: 60 }),
        status: waitingForPromote,
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [scale("new", 4)],
      status: { phase: "Progressing", pauseConditions: [], blueGreen: { activeSelector: "old", scaleUpPreviewCheckPoint: true } },
      events: ["RolloutResumed"],
    },
    {
      name: "auto-promotion with a full-size preview switches as soon as every pod is available",
      observed: observe({
        spec: spec({ autoPromotionEnabled: true, previewReplicaCount: undefined }),
        status: previewing,
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [select(ACTIVE, "new")],
      status: { stableRS: "old", blueGreen: { activeSelector: "new", scaleUpPreviewCheckPoint: true } },
      events: ["RolloutPromoted"],
    },
    {
      name: "spec.paused holds the preview where it is and lets the running analysis measure",
      observed: observe({
        spec: spec({ prePromotionAnalysis: SMOKE }, { paused: true }),
        status: { ...previewing, blueGreen: { ...previewing.blueGreen, prePromotionAnalysisRun: { name: "web-new-pre" } } },
        analysisRuns: [run("prePromotion", "Running")],
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [],
      status: { phase: "Paused", blueGreen: { activeSelector: "old" } },
      events: [],
    },
    {
      name: "back to the stable template during the preview: no preview, the new pods go",
      observed: observe({ templateHash: "old", status: waitingForPromote, replicaSets: [rs("new", 2), rs("old", 4)] }),
      actions: [select(PREVIEW, "old"), scale("new", 0)],
      status: { currentPodHash: "old", phase: "Healthy", blueGreen: { previewSelector: "old" } },
      events: ["RolloutUpdated"],
      cleared: ["pauseConditions", "controllerPause"],
    },
    {
      name: "back to the stable template after the switch: active back on stable; the new pods stay until that is seen",
      observed: observe({
        templateHash: "old",
        status: switched,
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        replicaSets: [rs("new", 4), rs("old", 4)],
      }),
      actions: [select(ACTIVE, "old"), select(PREVIEW, "old")],
      status: { currentPodHash: "old", phase: "Healthy", blueGreen: { activeSelector: "old", previewSelector: "old" } },
      events: ["RolloutUpdated"],
    },
    {
      name: "preview ready: the pre-promotion gate (confirm-promotion) is called and holds the promotion",
      observed: observe({
        spec: spec({ prePromotionGate: GATE, autoPromotionEnabled: true }),
        status: previewing,
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [{ type: "callGate", name: "confirm", url: GATE.url, stepIndex: 0, timeoutMs: 10_000, attempt: 1 }],
      status: {
        phase: "Progressing",
        blueGreen: {
          activeSelector: "old",
          previewSelector: "new",
          currentGate: { name: "confirm", stepIndex: 0, attempts: 1, phase: "Pending", lastAttemptAt: T0.toISOString() },
        },
      },
      events: [],
      requeue: 12_000,
    },
    {
      name: "a passed pre-promotion gate lets the promotion go",
      observed: observe({
        spec: spec({ prePromotionGate: GATE, autoPromotionEnabled: true }),
        status: gateAt("Passed", 2),
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [scale("new", 4)],
      status: { phase: "Progressing", blueGreen: { scaleUpPreviewCheckPoint: true } },
      events: [],
    },
    {
      name: "a pre-promotion gate failed for the last time pauses with GateFailed",
      observed: observe({
        spec: spec({ prePromotionGate: { ...GATE, retries: 1 }, autoPromotionEnabled: true }),
        now: at(10),
        status: gateAt("Failed", 2),
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [],
      status: { phase: "Paused", controllerPause: true, pauseConditions: [{ reason: "GateFailed", startTime: since(10) }] },
      events: ["GateFailed", "RolloutPaused"],
    },
    {
      name: "ramp promote past a failed pre-promotion gate (pauses cleared, controllerPause kept) promotes",
      observed: observe({
        spec: spec({ prePromotionGate: { ...GATE, retries: 1 }, autoPromotionEnabled: true }),
        now: at(20),
        status: { ...gateAt("Failed", 2), controllerPause: true, pauseConditions: [] },
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [scale("new", 4)],
      status: { blueGreen: { scaleUpPreviewCheckPoint: true } },
      events: [],
    },
    {
      name: "a pre-promotion gate with onFailure abort aborts",
      observed: observe({
        spec: spec({ prePromotionGate: { ...GATE, retries: 0, onFailure: "abort" } }),
        status: gateAt("Failed", 1),
        replicaSets: [rs("new", 2), rs("old", 4)],
      }),
      actions: [select(PREVIEW, "old")],
      status: { abort: true, abortedAt: T0.toISOString(), phase: "Degraded" },
      events: ["GateFailed", "RolloutAborted"],
      requeue: 10_000,
    },
  ])("$name", ({ observed, actions, status, events: expectedEvents, requeue, cleared = [] }) => {
    const plan = planBlueGreen(observed);
    expect(changes(plan)).toEqual(actions);
    expect(plan.status).toMatchObject(status);
    for (const field of cleared) expect(plan.status).not.toHaveProperty(field);
    expect(events(plan)).toEqual(expectedEvents);
    expect(plan.requeueAfterMs).toBe(requeue);
  });

  it("a new template clears the last attempt, creates the ReplicaSet at preview size and leaves active on stable", () => {
    const plan = planBlueGreen(
      observe({
        status: {
          currentPodHash: "old",
          stableRS: "old",
          pauseConditions: [{ reason: "BlueGreenPause", startTime: T0.toISOString() }],
          controllerPause: true,
          promoteFull: true,
          abort: true,
          abortedAt: T0.toISOString(),
          blueGreen: {
            activeSelector: "old",
            previewSelector: "old",
            prePromotionAnalysisRun: { name: "web-older-pre", phase: "Failed" },
            postPromotionAnalysisRun: { name: "web-older-post" },
            scaleUpPreviewCheckPoint: true,
          },
        },
        services: { [ACTIVE]: "old", [PREVIEW]: "old" },
        replicaSets: [rs("older", 0, { revision: 3 }), rs("old", 4, { revision: 2 })],
      }),
    );
    expect(changes(plan)).toEqual([{ type: "createReplicaSet", hash: "new", revision: 4, replicas: 2 }]);
    expect(events(plan)).toEqual(["RolloutUpdated"]);
    const { pauseConditions, controllerPause, promoteFull, abort, abortedAt, blueGreen, phase } = plan.status;
    expect({ pauseConditions, controllerPause, promoteFull, abort, abortedAt, phase }).toEqual({ phase: "Progressing" });
    expect(blueGreen).toEqual({ activeSelector: "old", previewSelector: "old" });
  });
});

describe("planBlueGreen: retry", () => {
  const cases = retryCases({
    aborted: {
      ...previewing,
      abort: true,
      abortedAt: T0.toISOString(),
      blueGreen: {
        activeSelector: "old",
        previewSelector: "old",
        prePromotionAnalysisRun: { name: "web-new-pre", phase: "Failed" },
      },
    },
    retryDoes: "previews again with fresh analysis",
    retried: { phase: "Progressing", blueGreen: { activeSelector: "old", previewSelector: "old" } },
    alsoCleared: [],
  });
  it.each(cases)("$name", (retryCase) => {
    const plan = planBlueGreen(
      observe({
        spec: spec({ prePromotionAnalysis: SMOKE }),
        status: retryCase.status,
        services: { [ACTIVE]: "old", [PREVIEW]: "old" },
        analysisRuns: [run("prePromotion", "Failed")],
        replicaSets: [rs("new", 0), rs("old", 4)],
      }),
    );
    expect(plan.status).toMatchObject(retryCase.expected);
    expect(events(plan)).toEqual(retryCase.events);
    for (const field of retryCase.cleared) expect(plan.status[field], field).toBeUndefined();
    if (retryCase.events.length) {
      expect(changes(plan)).toEqual([scale("new", 2)]);
      expect(plan.status.blueGreen?.prePromotionAnalysisRun).toBeUndefined();
    }
  });

  it("a retry asked of a rollout that is not aborted is dropped: the preview goes on", () => {
    const plan = planBlueGreen(
      observe({ status: { ...waitingForPromote, retry: true }, replicaSets: [rs("new", 2), rs("old", 4)] }),
    );
    expect(plan.status).toMatchObject({ phase: "Paused", pauseConditions: waitingForPromote.pauseConditions });
    expect(plan.status.retry).toBeUndefined();
    expect(events(plan)).toEqual([]);
  });
});

/** A pure stand-in for the cluster: applies a plan's actions. Pods that a plan starts are available
 * on the next reconcile; pods it removes are gone at once. */
class World {
  readonly spec: Observed["spec"];
  sets: ObservedReplicaSet[];
  services: Record<string, string | null>;
  runs: ObservedAnalysisRun[] = [];
  status: RolloutStatus;
  templateHash: string;
  t = 0;
  readonly seen: string[] = [];

  constructor(
    spec: Observed["spec"],
    start: { sets: ObservedReplicaSet[]; services: Record<string, string | null>; status: RolloutStatus; templateHash: string },
  ) {
    this.spec = spec;
    this.sets = start.sets;
    this.services = start.services;
    this.status = start.status;
    this.templateHash = start.templateHash;
  }

  pods(hash: string): number {
    return this.sets.find((s) => s.hash === hash)?.replicas ?? 0;
  }

  setRunPhase(role: ObservedAnalysisRun["role"], phase: ObservedAnalysisRun["phase"]): void {
    const latest = this.runs.filter((r) => r.role === role).at(-1);
    this.runs = this.runs.map((r) => (r === latest ? { ...r, phase } : r));
  }

  reconcile(): void {
    this.sets = this.sets.map((s) => ({ ...s, current: s.replicas, ready: s.replicas, available: s.replicas }));
    const plan = planBlueGreen(
      observe({
        spec: this.spec,
        templateHash: this.templateHash,
        now: at(this.t),
        status: this.status,
        replicaSets: this.sets,
        services: { ...this.services },
        analysisRuns: this.runs,
      }),
    );
    for (const a of plan.actions) this.apply(a);
    this.status = plan.status;
    this.seen.push(...events(plan));
    this.t += 1;
    const replicas = this.spec.replicas;
    const active = this.services[ACTIVE];
    if (active)
      expect(this.sets.find((s) => s.hash === active)?.available ?? 0, `active on ${active}`).toBeGreaterThanOrEqual(replicas);
    expect(this.sets.reduce((n, s) => n + s.replicas, 0)).toBeLessThanOrEqual(2 * replicas);
  }

  /** Reconciles until `done` holds (at most 100 times). */
  until(what: string, done: () => boolean): void {
    for (let i = 0; i < 100 && !done(); i++) this.reconcile();
    if (!done()) throw new Error(`never reached: ${what} (${this.status.phase}: ${this.status.message})`);
  }

  private apply(a: Action): void {
    if (a.type === "createReplicaSet")
      this.sets.push(rs(a.hash, a.replicas, { revision: a.revision, current: 0, ready: 0, available: 0 }));
    if (a.type === "scaleReplicaSet")
      this.sets = this.sets.map((s) =>
        s.name === a.name ? { ...s, replicas: a.replicas, available: Math.min(s.available, a.replicas) } : s,
      );
    if (a.type === "setScaleDownAt")
      this.sets = this.sets.map((s) => (s.name === a.name ? { ...s, scaleDownAt: a.at ?? undefined } : s));
    if (a.type === "setServiceSelector") this.services[a.service] = a.hash;
    if (a.type === "createAnalysisRun") this.runs.push({ name: a.name, role: a.role, hash: a.hash, terminated: false });
    if (a.type === "terminateAnalysisRun") this.runs = this.runs.map((r) => (r.name === a.name ? { ...r, terminated: true } : r));
  }
}

describe("planBlueGreen: rollbackWindow", () => {
  // Revisions old (1), new (2, stable); the spec goes back to old.
  const stableNew: RolloutStatus = { currentPodHash: "new", stableRS: "new", blueGreen: { activeSelector: "new" } };
  it.each<{ name: string; window?: number; skipped: boolean }>([
    { name: "within the window: no pause, no analysis, promoted at once", window: 1, skipped: true },
    { name: "no rollbackWindow: previewed and analysed as any new revision", skipped: false },
  ])("back to the revision before stable, $name", ({ window, skipped }) => {
    const plan = planBlueGreen(
      observe({
        spec: spec({ prePromotionAnalysis: SMOKE }, window === undefined ? {} : { rollbackWindow: { revisions: window } }),
        templateHash: "old",
        services: { [ACTIVE]: "new", [PREVIEW]: "new" },
        status: stableNew,
        replicaSets: [rs("old", 0), rs("new", 4)],
      }),
    );
    expect(plan.status.promoteFull === true).toBe(skipped);
    expect(plan.status.blueGreen?.scaleUpPreviewCheckPoint === true).toBe(skipped);
    expect(plan.actions).toContainEqual(scale("old", skipped ? 4 : 2));
    expect(plan.actions.some((a) => a.type === "createAnalysisRun")).toBe(false); // pre-promotion waits for the preview pods
  });
});

describe("planBlueGreen: whole rollouts", () => {
  it("4 replicas, preview 2: manual promotion, post-promotion analysis, completion and the scale-down delay", () => {
    const w = new World(spec({ postPromotionAnalysis: SLO }), {
      sets: [],
      services: { [ACTIVE]: null, [PREVIEW]: null },
      status: {},
      templateHash: "v1",
    });
    w.until("first revision healthy", () => w.status.phase === "Healthy");
    expect(w.services).toEqual({ [ACTIVE]: "v1", [PREVIEW]: "v1" });

    w.templateHash = "v2";
    w.until("preview paused", () => w.status.phase === "Paused");
    expect([w.pods("v1"), w.pods("v2")]).toEqual([4, 2]);
    expect(w.services).toEqual({ [ACTIVE]: "v1", [PREVIEW]: "v2" });
    for (let i = 0; i < 5; i++) w.reconcile();
    expect(w.status.phase).toBe("Paused");
    expect([w.pods("v1"), w.pods("v2")]).toEqual([4, 2]);

    // ramp promote: pause conditions cleared, controllerPause left.
    w.status = { ...w.status, pauseConditions: [] };
    w.until("post-promotion analysis started", () => w.runs.some((r) => r.role === "postPromotion"));
    expect(w.services).toEqual({ [ACTIVE]: "v2", [PREVIEW]: "v2" });
    expect([w.pods("v1"), w.pods("v2")]).toEqual([4, 4]);
    for (let i = 0; i < 5; i++) w.reconcile();
    expect(w.status.stableRS).toBe("v1"); // until the analysis passes
    expect(w.pods("v1")).toBe(4);

    w.setRunPhase("postPromotion", "Successful");
    w.until("stable is v2", () => w.status.stableRS === "v2");
    expect(w.status.phase).toBe("Healthy");
    expect(w.pods("v1")).toBe(4); // kept for scaleDownDelaySeconds
    const completedAt = w.t;
    w.until("old pods scaled down", () => w.pods("v1") === 0);
    expect(w.t - completedAt).toBeGreaterThanOrEqual(30);
    expect(w.status.phase).toBe("Healthy");
    expect(w.seen).toEqual(
      expect.arrayContaining(["RolloutUpdated", "RolloutPaused", "RolloutPromoted", "AnalysisRunSuccessful", "RolloutCompleted"]),
    );
    expect(w.seen.filter((e) => e === "RolloutPromoted")).toHaveLength(1);
  });

  it("a failed pre-promotion analysis aborts; a retry previews again and promotes", () => {
    const w = new World(spec({ prePromotionAnalysis: SMOKE, autoPromotionEnabled: true }), {
      sets: [rs("v1", 4)],
      services: { [ACTIVE]: "v1", [PREVIEW]: "v1" },
      status: { currentPodHash: "v1", stableRS: "v1", blueGreen: { activeSelector: "v1", previewSelector: "v1" } },
      templateHash: "v2",
    });
    w.until("pre-promotion analysis started", () => w.runs.some((r) => r.role === "prePromotion"));
    expect(w.services).toEqual({ [ACTIVE]: "v1", [PREVIEW]: "v2" });

    w.setRunPhase("prePromotion", "Failed");
    w.until("aborted", () => w.status.phase === "Degraded");
    expect(w.services).toEqual({ [ACTIVE]: "v1", [PREVIEW]: "v1" });
    expect(w.pods("v2")).toBe(2); // kept for abortScaleDownDelaySeconds
    const abortedAt = w.t;
    w.until("preview pods gone", () => w.pods("v2") === 0);
    expect(w.t - abortedAt).toBeGreaterThanOrEqual(10);
    expect(w.status.phase).toBe("Degraded");
    expect(w.seen.filter((e) => e === "RolloutAborted")).toHaveLength(1);

    w.status = { ...w.status, retry: true }; // what `ramp retry` writes
    w.until("a second pre-promotion run", () => w.runs.filter((r) => r.role === "prePromotion").length === 2);
    expect(w.runs.map((r) => r.name)).toEqual(["web-v2-pre", "web-v2-pre.2"]);
    expect(w.services).toEqual({ [ACTIVE]: "v1", [PREVIEW]: "v2" });
    w.setRunPhase("prePromotion", "Successful");
    w.until("healthy at v2", () => w.status.phase === "Healthy" && w.status.stableRS === "v2");
    expect(w.services).toEqual({ [ACTIVE]: "v2", [PREVIEW]: "v2" });
    expect(w.seen).toEqual(expect.arrayContaining(["RolloutRetried", "RolloutPromoted", "RolloutCompleted"]));
    w.until("old pods scaled down", () => w.pods("v1") === 0);
  });
});
