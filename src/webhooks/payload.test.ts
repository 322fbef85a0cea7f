import { describe, expect, it } from "vitest";
import type { AnalysisRunStatus } from "../api/analysis.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import {
  analysisCause,
  analysisDetails,
  buildPayload,
  idempotencyKey,
  PAYLOAD_VERSION,
  type RolloutSnapshot,
} from "./payload.ts";

const NOW = new Date("2025-03-01T12:00:00Z");

const canary = (status: RolloutStatus = {}): RolloutSnapshot => ({
  metadata: { name: "checkout", namespace: "shop", uid: "u-1" },
  spec: {
    strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { analysis: {} }] } },
    template: {
      spec: {
        containers: [
          { name: "app", image: "checkout:2" },
          { name: "proxy", image: "envoy:1" },
        ],
      },
    },
  },
  status,
});
const blueGreen = (): RolloutSnapshot => ({
  metadata: { name: "shop", namespace: "shop", uid: "u-2" },
  spec: { strategy: { blueGreen: { activeService: "a" } } },
});

describe("buildPayload", () => {
  it("carries the rollout, revision, step, weight, outcome and the key", () => {
    const status: RolloutStatus = {
      phase: "Paused",
      message: "paused at step 1 of 4",
      currentPodHash: "new",
      stableRS: "old",
      currentStepIndex: 1,
      canary: { weights: { canary: { weight: 20 }, stable: { weight: 80 } } },
    };
    const event = { reason: "RolloutPaused", message: "paused at step 1 until promoted" };
    const before = canary({ currentPodHash: "new", stableRS: "old", currentStepIndex: 1 });
    expect(buildPayload(before, status, event, NOW)).toEqual({
      apiVersion: PAYLOAD_VERSION,
      idempotencyKey: idempotencyKey(before, "new", event),
      event: "paused",
      reason: "RolloutPaused",
      severity: "info",
      message: "paused at step 1 until promoted",
      timestamp: "2025-03-01T12:00:00.000Z",
      rollout: { name: "checkout", namespace: "shop", uid: "u-1", strategy: "canary" },
      revision: {
        podTemplateHash: "new",
        stablePodTemplateHash: "old",
        images: [
          { container: "app", image: "checkout:2" },
          { container: "proxy", image: "envoy:1" },
        ],
      },
      step: { completed: 1, total: 4 },
      weight: 20,
      outcome: { phase: "Paused", message: "paused at step 1 of 4" },
    });
  });

  it("is undefined for a reason notifications do not know", () => {
    expect(buildPayload(canary(), {}, { reason: "SomethingElse", message: "" }, NOW)).toBeUndefined();
  });

  it("takes nothing on trust from a spec that did not parse (InvalidSpec)", () => {
    const r = {
      metadata: { name: "x", namespace: "y" },
      spec: { strategy: { canary: { steps: "4" } }, template: { spec: { containers: "app" } } },
    };
    const p = buildPayload(r, {}, { reason: "InvalidSpec", message: "spec.steps: expected array", warning: true }, NOW);
    expect(p).toMatchObject({ event: "invalid-spec", step: { completed: 0, total: 0 }, revision: { images: [] } });
  });

  it("marks warnings", () => {
    const p = buildPayload(canary(), {}, { reason: "RolloutAborted", message: "x", warning: true }, NOW);
    expect(p?.severity).toBe("warning");
  });

  it.each([
    [
      "canary mid-way",
      canary(),
      { currentPodHash: "b", stableRS: "a", canary: { weights: { canary: { weight: 30 }, stable: { weight: 70 } } } },
      30,
    ],
    [
      "canary stable",
      canary(),
      { currentPodHash: "b", stableRS: "b", canary: { weights: { canary: { weight: 0 }, stable: { weight: 100 } } } },
      100,
    ],
    [
      "canary aborted",
      canary(),
      {
        currentPodHash: "b",
        stableRS: "a",
        abort: true,
        canary: { weights: { canary: { weight: 0 }, stable: { weight: 100 } } },
      },
      0,
    ],
    ["blue-green in preview", blueGreen(), { currentPodHash: "b", stableRS: "a", blueGreen: { activeSelector: "a" } }, 0],
    ["blue-green switched", blueGreen(), { currentPodHash: "b", stableRS: "a", blueGreen: { activeSelector: "b" } }, 100],
    ["no revision yet", blueGreen(), {}, 0],
  ] as [string, RolloutSnapshot, RolloutStatus, number][])("weight on the revision: %s", (_what, r, status, weight) => {
    expect(buildPayload(r, status, { reason: "RolloutUpdated", message: "" }, NOW)?.weight).toBe(weight);
  });

  it("blue-green has no step", () => {
    const p = buildPayload(blueGreen(), {}, { reason: "RolloutPromoted", message: "" }, NOW);
    expect(p?.step).toBeUndefined();
    expect(p?.rollout.strategy).toBe("blueGreen");
  });
});

describe("idempotencyKey", () => {
  const before: RolloutStatus = { currentPodHash: "b", currentStepIndex: 2, pauseConditions: [{ reason: "x", startTime: "t1" }] };
  const event = { reason: "RolloutAborted", message: "aborted at step 2: requested" };
  const base = idempotencyKey(canary(before), "b", event);

  it("is the same when the same transition is planned again", () => {
    // Key order and the time of planning do not matter; only what the transition started from.
    const reordered = { pauseConditions: [{ startTime: "t1", reason: "x" }], currentStepIndex: 2, currentPodHash: "b" };
    expect(idempotencyKey(canary(reordered), "b", { ...event })).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    ["another rollout (uid)", { ...canary(before), metadata: { name: "checkout", namespace: "shop", uid: "u-9" } }, "b", event],
    ["another revision", canary(before), "c", event],
    ["another event", canary(before), "b", { ...event, reason: "RolloutPaused" }],
    ["another step", canary({ ...before, currentStepIndex: 3 }), "b", event],
    [
      "the same event again later (after a retry)",
      canary({ ...before, pauseConditions: [{ reason: "x", startTime: "t2" }] }),
      "b",
      event,
    ],
    [
      "two events of one reason in one reconcile",
      canary(before),
      "b",
      { ...event, message: "aborted at step 2: analysis run x failed" },
    ],
  ] as const)("differs for %s", (_what, r, revision, e) => {
    expect(idempotencyKey(r, revision, e)).not.toBe(base);
  });
});

describe("analysisCause", () => {
  const step = { name: "web-b-step3", phase: "Failed" as const, message: 'metric "errors" Failed' };
  const bg = { name: "web-b-bg", phase: "Error" as const };
  const status: RolloutStatus = { canary: { currentStepAnalysisRun: step, currentBackgroundAnalysisRun: bg } };
  it.each([
    ["an abort names its run", "RolloutAborted", "aborted at step 3: background analysis run web-b-bg error", "web-b-bg"],
    ["an abort without a name: the first failed", "RolloutAborted", "aborted at step 3: requested", "web-b-step3"],
    ["a failed analysis", "AnalysisRunFailed", "AnalysisRun web-b-step3 failed: x", "web-b-step3"],
    ["an analysis error", "AnalysisRunError", "AnalysisRun web-b-bg error", "web-b-bg"],
    ["a pause with nothing inconclusive", "RolloutPaused", "paused at step 1 until promoted", undefined],
    ["an event analysis does not cause", "RolloutCompleted", "revision b is stable", undefined],
  ])("%s", (_what, reason, message, run) => {
    expect(analysisCause(status, { reason, message })?.name).toBe(run);
  });

  it("blue-green's promotion runs count too", () => {
    const s: RolloutStatus = { blueGreen: { prePromotionAnalysisRun: { name: "shop-b-pre", phase: "Inconclusive" } } };
    expect(
      analysisCause(s, { reason: "RolloutPaused", message: "pre-promotion analysis run shop-b-pre inconclusive" })?.name,
    ).toBe("shop-b-pre");
  });
});

describe("analysisDetails", () => {
  const ref = { name: "run", phase: "Failed", message: 'metric "errors" Failed: 1 failed > failureLimit 0' };
  const m = (phase: string, value?: string) => ({ phase, ...(value !== undefined ? { value } : {}) });
  it.each([
    ["no run status: the ref alone", undefined, { run: "run", phase: "Failed", message: ref.message }],
    [
      "the failed metric and its last failed value",
      {
        metricResults: [
          { name: "latency", phase: "Successful", measurements: [m("Successful", "0.2")] },
          { name: "errors", phase: "Failed", measurements: [m("Successful", "0.01"), m("Failed", "0.12"), m("Error")] },
        ],
      },
      { run: "run", phase: "Failed", message: ref.message, metric: "errors", value: "0.12" },
    ],
    [
      "a dry-run metric never decides",
      {
        metricResults: [
          { name: "shadow", phase: "Failed", dryRun: true, measurements: [m("Failed", "9")] },
          { name: "errors", phase: "Failed", measurements: [m("Failed", "0.3")] },
        ],
      },
      { run: "run", phase: "Failed", message: ref.message, metric: "errors", value: "0.3" },
    ],
    [
      "an error metric without a value",
      { metricResults: [{ name: "errors", phase: "Error", measurements: [m("Error")] }] },
      { run: "run", phase: "Failed", message: ref.message, metric: "errors" },
    ],
  ] as [string, AnalysisRunStatus | undefined, object][])("%s", (_what, run, details) => {
    expect(analysisDetails(ref, run)).toEqual(details);
  });
});
