import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import type { AnalysisPhase } from "../api/analysis.ts";
import { type RolloutStatus, rolloutSpec } from "../api/rollout.ts";
import type { AnalysisRunObject } from "../rollout/objects.ts";
import type { LiveRollout } from "../rollout/operations.ts";
import { NOW, owner, replicaSet } from "./fixtures.ts";
import {
  clip,
  countdown,
  fitText,
  type LivePod,
  type LiveState,
  liveView,
  measuredNumber,
  redraw,
  renderLive,
  sparkline,
} from "./live.ts";

const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const STEPS = [{ setWeight: 20 }, { pause: { duration: "30s" } }, { setWeight: 50 }, { pause: {} }];
const plain = (lines: string[]) => lines.map(stripVTControlCharacters);

function rollout(status: RolloutStatus, canary: object = {}): LiveRollout {
  return {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: "shop", uid: "u1", generation: 2, creationTimestamp: secondsAgo(3600) },
    spec: rolloutSpec.parse({
      replicas: 4,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:2" }] } },
      strategy: { canary: { steps: STEPS, ...canary } },
    }),
    status,
  };
}

function pod(name: string, hash: string, ready: boolean, extra: Partial<NonNullable<LivePod["status"]>> = {}): LivePod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      labels: { app: "web", "ramp.dev/pod-template-hash": hash },
      creationTimestamp: secondsAgo(90),
    },
    status: { phase: "Running", containerStatuses: [{ ready, restartCount: ready ? 0 : 2 }], ...extra },
  };
}

const measurement = (phase: AnalysisPhase, value?: string) => ({ phase, ...(value === undefined ? {} : { value }) });
const RUN: AnalysisRunObject = {
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisRun",
  metadata: {
    name: "web-v2-step-2",
    namespace: "shop",
    creationTimestamp: secondsAgo(40),
    labels: { "ramp.dev/analysis-role": "step" },
    ownerReferences: owner(),
  },
  spec: {
    metrics: [
      { name: "errors", successCondition: "result < 0.05", provider: { prometheus: { query: "q" } } },
      { name: "latency", provider: { slo: {} } },
    ],
  } as unknown as AnalysisRunObject["spec"],
  status: {
    phase: "Running",
    metricResults: [
      {
        name: "errors",
        phase: "Running",
        successful: 3,
        failed: 1,
        inconclusive: 1,
        error: 1,
        measurements: [
          measurement("Successful", "0.01"),
          measurement("Successful", "[0.02]"),
          measurement("Failed", "0.09"),
          measurement("Inconclusive", "NaN"),
          measurement("Error"),
          measurement("Successful", "0.01"),
        ],
      },
      { name: "latency", phase: "Pending" },
    ],
  },
};

const PAUSED: RolloutStatus = {
  phase: "Paused",
  message: "paused at step 1 of 4 for 30s",
  observedGeneration: 2,
  stableRS: "v1",
  currentPodHash: "v2",
  currentStepIndex: 1,
  readyReplicas: 4,
  pauseConditions: [{ reason: "CanaryPauseStep", startTime: secondsAgo(12) }],
  canary: { weights: { canary: { weight: 20 }, stable: { weight: 80 }, verified: true } },
};

const state = (r: LiveRollout, more: Partial<LiveState> = {}): LiveState => ({
  rollout: r,
  replicaSets: [replicaSet("v1", 1, 3), replicaSet("v2", 2, 1)],
  pods: [pod("web-v2-a", "v2", true), pod("web-v1-b", "v1", true), pod("web-v1-c", "v1", false), pod("other-z", "x9", true)],
  runs: [RUN],
  problems: [],
  ...more,
});
const ROUTED = { trafficRouting: { gatewayAPI: { httpRoute: "web" } } };

describe("renderLive", () => {
  it("a paused canary: weights, countdown, steps, pods per ReplicaSet, a row per metric", () => {
    expect(plain(renderLive(liveView(state(rollout(PAUSED, ROUTED))), NOW, 120, false))).toEqual([
      "web  shop  Canary  ● Paused — paused at step 1 of 4 for 30s",
      "Images:     web:2",
      "Replicas:   4/4 ready",
      "Weight:     desired 20%  set 20% ✓ verified",
      "Pause:      18s left",
      "Steps:      1/4 done",
      "  ✓ 1/4 setWeight 20%",
      "  → 2/4 pause 30s",
      "    3/4 setWeight 50%",
      "    4/4 pause (until promoted)",
      "ReplicaSets:",
      "  rev 2  v2  canary  web:2  1/1 ready  20m",
      "    web-v2-a  Running  1/1  0 restarts  90s",
      "  rev 1  v1  stable  web:1  3/3 ready  10m",
      "    web-v1-b  Running  1/1  0 restarts  90s",
      "    web-v1-c  Running  0/1  2 restarts  90s",
      "Analysis:",
      "  web-v2-step-2  step  Running  40s",
      "    METRIC   LAST  CONDITION      OK  FAILED  INCONCLUSIVE  ERRORS  RECENT",
      "    errors   0.01  result < 0.05  3   1       1             1       ▁▂█··▁",
      "    latency  -     slo            0   0       0             0       ",
    ]);
  });

  it.each<[string, RolloutStatus, object, string]>([
    [
      "the router has not confirmed it yet",
      { ...PAUSED, canary: { weights: { ...PAUSED.canary?.weights, verified: false } as never } },
      ROUTED,
      "Weight:     desired 20%  set 20% ✗ not verified yet",
    ],
    [
      "a router that cannot verify",
      { ...PAUSED, canary: { weights: { canary: { weight: 20 }, stable: { weight: 80 } } } },
      ROUTED,
      "Weight:     desired 20%  set 20% (the router cannot verify)",
    ],
    ["no router: replica counts", PAUSED, {}, "Weight:     desired 20%  set 20% (replica counts, no router)"],
    [
      "the step asks for more than was set",
      { ...PAUSED, currentStepIndex: 2, pauseConditions: [] },
      ROUTED,
      "Weight:     desired 50%  set 20% ✓ verified",
    ],
    ["nothing set yet", { ...PAUSED, canary: {} }, ROUTED, "Weight:     desired 20%  set not yet set (the router cannot verify)"],
    [
      "stable: all of it",
      { ...PAUSED, stableRS: "v2", currentStepIndex: 4, pauseConditions: [] },
      ROUTED,
      "Weight:     desired 100%  set 100% ✓ verified",
    ],
  ])("weight: %s", (_, status, canary, line) => {
    expect(plain(renderLive(liveView(state(rollout(status, canary))), NOW, 120, false))).toContain(line);
  });

  it.each<[string, RolloutStatus, string | undefined]>([
    ["a timed pause counts down", PAUSED, "Pause:      18s left"],
    [
      "an overdue pause shows 0s",
      { ...PAUSED, pauseConditions: [{ reason: "CanaryPauseStep", startTime: secondsAgo(45) }] },
      "Pause:      0s left",
    ],
    ["a pause until promoted has none", { ...PAUSED, currentStepIndex: 3 }, undefined],
    ["not paused yet: none", { ...PAUSED, pauseConditions: [] }, undefined],
  ])("pause: %s", (_, status, line) => {
    const lines = plain(renderLive(liveView(state(rollout(status))), NOW, 120, false));
    const pause = lines.find((l) => l.startsWith("Pause:"));
    expect(pause).toBe(line);
  });

  it.each([
    ["colour on", true, true],
    ["colour off (NO_COLOR)", false, false],
  ])("%s", (_, colour, coloured) => {
    const lines = renderLive(liveView(state(rollout(PAUSED, ROUTED))), NOW, 120, colour);
    expect(lines.some((l) => l !== stripVTControlCharacters(l))).toBe(coloured);
    // Colour never changes the text.
    expect(plain(lines)).toEqual(renderLive(liveView(state(rollout(PAUSED, ROUTED))), NOW, 120, false));
  });

  it.each([20, 40, 50])("no line is longer than the width (%i), colour or not", (width) => {
    for (const colour of [true, false]) {
      const lines = plain(renderLive(liveView(state(rollout(PAUSED, ROUTED))), NOW, width, colour));
      expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(width);
      expect(lines[0]?.endsWith("…")).toBe(true);
    }
  });

  it("a watch that fails says so on its own line", () => {
    const lines = renderLive(
      liveView(state(rollout(PAUSED), { problems: ["pods: forbidden (the watch keeps trying)"] })),
      NOW,
      80,
      false,
    );
    expect(lines.at(-1)).toBe("! pods: forbidden (the watch keeps trying)");
  });

  it("pod status: a waiting reason, Terminating", () => {
    const pods = [
      pod("web-v2-a", "v2", false, { containerStatuses: [{ ready: false, state: { waiting: { reason: "CrashLoopBackOff" } } }] }),
      { ...pod("web-v2-b", "v2", true), metadata: { ...pod("web-v2-b", "v2", true).metadata, deletionTimestamp: secondsAgo(1) } },
    ];
    const view = liveView(state(rollout(PAUSED), { pods }));
    expect(view.pods.v2?.map((p) => p.status)).toEqual(["CrashLoopBackOff", "Terminating"]);
  });
});

describe("sparkline and measured values", () => {
  it.each<[number[], string]>([
    [[1, 2, 3, 4, 5, 6, 7, 8], "▁▂▃▄▅▆▇█"],
    [[5, 5, 5], "▄▄▄"],
    [[0, Number.NaN, 1], "▁·█"],
    [[0, Number.POSITIVE_INFINITY, 1], "▁██"],
    [[], ""],
  ])("%j", (values, line) => {
    expect(sparkline(values)).toBe(line);
  });

  it.each<[string | undefined, number]>([
    ["0.01", 0.01],
    ["[0.02, 3]", 0.02],
    ["-1.5e-3", -0.0015],
    ["+Inf", Number.POSITIVE_INFINITY],
    ["NaN", Number.NaN],
    [undefined, Number.NaN],
  ])("%s", (text, value) => {
    expect(measuredNumber(text)).toBe(value);
  });
});

describe("countdown", () => {
  it.each([
    [0, "0s"],
    [-5000, "0s"],
    [1200, "2s"],
    [59_000, "59s"],
    [65_000, "1m05s"],
    [3_600_000 + 600_000, "1h10m"],
  ])("%d ms: %s", (ms, text) => {
    expect(countdown(ms)).toBe(text);
  });
});

describe("redraw in place", () => {
  it.each<[number, string[], string]>([
    [0, ["a", "b"], "a\x1b[K\nb\x1b[K\n\x1b[J"],
    [2, ["c"], "\x1b[2Fc\x1b[K\n\x1b[J"],
    [3, [], "\x1b[3F\x1b[J"],
  ])("after a frame of %i lines: %j", (height, lines, text) => {
    expect(redraw(height, lines)).toBe(text);
  });

  it.each<[number, number, string]>([
    [5, 10, "5 lines"],
    [10, 10, "10 lines"],
    [12, 10, "9 lines and … 3 more lines"],
  ])("clip %i lines to %i rows", (n, rows, _) => {
    const lines = Array.from({ length: n }, (_, i) => `l${i}`);
    const clipped = clip(lines, rows);
    expect(clipped.length).toBe(Math.min(n, rows));
    if (n > rows) expect(clipped.at(-1)).toBe(`… ${n - rows + 1} more lines (a taller terminal shows them)`);
  });

  it.each([
    ["short", 10, "short"],
    ["exactly ten", 11, "exactly ten"],
    ["far too long", 5, "far …"],
  ])("fitText(%j, %i)", (line, width, text) => {
    expect(fitText(line, width)).toBe(text);
  });
});
