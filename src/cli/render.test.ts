import { describe, expect, it } from "vitest";
import { type CanaryStep, type RolloutStatus, rolloutSpec } from "../api/rollout.ts";
import type { AnalysisRunObject } from "../rollout/objects.ts";
import type { LiveRollout } from "../rollout/operations.ts";
import { describeStep, rolloutView } from "../rollout/view.ts";
import { minutesAgo, NOW, owner, replicaSet } from "./fixtures.ts";
import { humanAge, renderList, renderStatus, table } from "./render.ts";

const STEPS = [{ setWeight: 20 }, { pause: { duration: "5s" } }, { setWeight: 50 }, { pause: {} }];

function rollout(status: RolloutStatus | undefined, strategy: object = { canary: { steps: STEPS } }): LiveRollout {
  return {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: "shop", uid: "u1", generation: 3, creationTimestamp: minutesAgo(90) },
    spec: rolloutSpec.parse({
      replicas: 10,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:2" }] } },
      strategy,
    }),
    ...(status ? { status } : {}),
  };
}

const run: AnalysisRunObject = {
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisRun",
  metadata: {
    name: "web-v2-step-2",
    namespace: "shop",
    creationTimestamp: minutesAgo(2),
    labels: { "ramp.dev/analysis-role": "step" },
    ownerReferences: owner(),
  },
  spec: { metrics: [] } as unknown as AnalysisRunObject["spec"],
  status: { phase: "Running" },
};

const CANARY: RolloutStatus = {
  phase: "Paused",
  message: "paused at step 1 of 4",
  observedGeneration: 3,
  stableRS: "v1",
  currentPodHash: "v2",
  currentStepIndex: 1,
  readyReplicas: 10,
};
const [OLD, STABLE, CANARY_RS, OTHERS] = [
  replicaSet("v0", 0, 0),
  replicaSet("v1", 1, 8),
  replicaSet("v2", 2, 2),
  replicaSet("x9", 9, 5, "u2"),
];

describe("describeStep", () => {
  it.each<[CanaryStep, string]>([
    [{ setWeight: 20 }, "setWeight 20%"],
    [{ pause: { duration: "5s" } }, "pause 5s"],
    [{ pause: {} }, "pause (until promoted)"],
    [{ analysis: { templates: [{ templateName: "http-slo" }, { templateName: "smoke" }] } }, "analysis http-slo, smoke"],
    [{ setCanaryScale: { replicas: 2 } }, "setCanaryScale 2 pods"],
    [{ setCanaryScale: { weight: 30 } }, "setCanaryScale 30%"],
    [{ setCanaryScale: { matchTrafficWeight: true } }, "setCanaryScale matchTrafficWeight"],
    [{ setHeaderRoute: { name: "beta", match: [{ headerName: "x-beta", headerValue: { exact: "1" } }] } }, "setHeaderRoute beta"],
    [{ setMirrorRoute: { name: "mirror" } }, "setMirrorRoute mirror (remove)"],
  ])("%j", (step, text) => {
    expect(describeStep(step)).toBe(text);
  });
});

describe("rolloutView", () => {
  it.each([
    ["by replicas: the new revision's share of available pods", rollout(CANARY), 20],
    [
      "what the router was told",
      rollout({ ...CANARY, canary: { weights: { canary: { weight: 5 }, stable: { weight: 95 } } } }),
      5,
    ],
    ["stable: all of it", rollout({ ...CANARY, phase: "Healthy", stableRS: "v2" }), 100],
    ["blue-green: none", rollout(CANARY, { blueGreen: { activeService: "web-active" } }), undefined],
  ])("weight %s", (_, r, weight) => {
    expect(rolloutView(r, [STABLE, CANARY_RS, OTHERS], []).weight).toBe(weight);
  });

  it("picks the Rollout's own ReplicaSets and runs, newest first, with their roles", () => {
    const view = rolloutView(rollout(CANARY), [OLD, STABLE, CANARY_RS, OTHERS], [run]);
    expect(view.replicaSets.map((rs) => [rs.revision, rs.role])).toEqual([
      ["2", "canary"],
      ["1", "stable"],
      ["?", "old"],
    ]);
    expect(view.runs.map((r) => r.name)).toEqual(["web-v2-step-2"]);
  });

  it("a baseline shows as one, with no revision, and takes no share of the weight", () => {
    const rs = replicaSet("v2-baseline", 0, 2);
    const baseline = {
      ...rs,
      metadata: { ...rs.metadata, labels: { ...rs.metadata.labels, "ramp.dev/role": "baseline" }, annotations: {} },
    };
    const view = rolloutView(rollout(CANARY), [STABLE, CANARY_RS, baseline], []);
    expect(view.replicaSets.map((r) => [r.revision, r.hash, r.role])).toEqual([
      ["2", "v2", "canary"],
      ["1", "v1", "stable"],
      ["-", "v2-baseline", "baseline"],
    ]);
    expect(view.weight).toBe(20);
  });

  it("blue-green roles", () => {
    const status = { ...CANARY, blueGreen: { activeSelector: "v1", previewSelector: "v2" } };
    const view = rolloutView(rollout(status, { blueGreen: { activeService: "a" } }), [STABLE, CANARY_RS], []);
    expect(view.replicaSets.map((rs) => rs.role)).toEqual(["preview", "stable, active"]);
  });

  it.each([
    ["no status yet", undefined, "Progressing", "waiting for the controller (the controller has not yet seen generation 3)"],
    [
      "an older spec",
      { ...CANARY, observedGeneration: 2 },
      "Paused",
      "paused at step 1 of 4 (the controller has not yet seen generation 3)",
    ],
  ])("phase and message: %s", (_, status, phase, message) => {
    expect(rolloutView(rollout(status), [], [])).toMatchObject({ phase, message });
  });
});

describe("renderStatus", () => {
  it("shows the phase, the steps with the current one marked, the ReplicaSets and the runs", () => {
    const text = renderStatus(rolloutView(rollout(CANARY), [STABLE, CANARY_RS], [run]), NOW);
    expect(text).toBe(
      [
        "Name:       web",
        "Namespace:  shop",
        "Strategy:   Canary",
        "Phase:      Paused — paused at step 1 of 4",
        "Images:     web:2",
        "Replicas:   10/10 ready",
        "Weight:     20%",
        "Steps:      1/4 done",
        "  ✓ 1/4 setWeight 20%",
        "  → 2/4 pause 5s",
        "    3/4 setWeight 50%",
        "    4/4 pause (until promoted)",
        "ReplicaSets:",
        "  REVISION  HASH  ROLE    IMAGES  READY  AGE",
        "  2         v2    canary  web:2   2/2    20m",
        "  1         v1    stable  web:1   8/8    10m",
        "Analysis runs:",
        "  NAME           ROLE  PHASE    AGE",
        "  web-v2-step-2  step  Running  2m",
      ].join("\n"),
    );
  });

  it("blue-green has no steps or weight", () => {
    const text = renderStatus(rolloutView(rollout(CANARY, { blueGreen: { activeService: "a" } }), [], []), NOW);
    expect(text).toContain("Strategy:   BlueGreen");
    expect(text).not.toMatch(/Steps|Weight/);
  });
});

describe("renderList", () => {
  const views = [rolloutView(rollout(CANARY), [STABLE, CANARY_RS], [])];
  const format = { allNamespaces: false, wide: false, headers: true };
  it.each([
    [{}, ["NAME  STRATEGY  PHASE   STEP  WEIGHT  READY  AGE", "web   Canary    Paused  1/4   20%     10/10  90m"]],
    [
      { allNamespaces: true },
      [
        "NAME  NAMESPACE  STRATEGY  PHASE   STEP  WEIGHT  READY  AGE",
        "web   shop       Canary    Paused  1/4   20%     10/10  90m",
      ],
    ],
    [{ headers: false }, ["web  Canary  Paused  1/4  20%  10/10  90m"]],
    [
      { wide: true },
      [
        "NAME  STRATEGY  PHASE   STEP  WEIGHT  READY  AGE  IMAGES  MESSAGE",
        "web   Canary    Paused  1/4   20%     10/10  90m  web:2   paused at step 1 of 4",
      ],
    ],
  ])("%j", (changed, lines) => {
    expect(renderList(views, { ...format, ...changed }, NOW)).toBe(lines.join("\n"));
  });
});

describe("humanAge, as kubectl's HumanDuration", () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const y = 365 * d;
  it.each([
    [-3 * s, "<invalid>"],
    [-1500, "0s"],
    [0, "0s"],
    [45 * s, "45s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 20 * s, "3m20s"],
    [9 * m + 59 * s, "9m59s"],
    [10 * m + 30 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [7 * h + 5 * m, "7h5m"],
    [8 * h + 5 * m, "8h"],
    [47 * h, "47h"],
    [2 * d, "2d"],
    [5 * d + 3 * h, "5d3h"],
    [8 * d + 3 * h, "8d"],
    [729 * d, "729d"],
    [2 * y, "2y"],
    [2 * y + 40 * d, "2y40d"],
    [8 * y + 40 * d, "8y"],
  ])("%d ms: %s", (ms, text) => {
    expect(humanAge(ms)).toBe(text);
  });
});

describe("table", () => {
  it.each([
    [
      [
        ["A", "BB"],
        ["CCC", "D"],
      ],
      "A    BB\nCCC  D",
    ],
    [[], ""],
  ])("%j", (rows, text) => {
    expect(table(rows)).toBe(text);
  });
});
