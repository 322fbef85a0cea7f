import { describe, expect, it } from "vitest";
import type { AnalysisRunObject, PodObject, ReplicaSetObject } from "../rollout/objects.ts";
import type { LiveRollout } from "../rollout/operations.ts";
import { type EventObject, type HistoryPoint, recordHistory, rolloutDetail, rolloutRows } from "./view.ts";

const UID = "uid-web";
const owner = { apiVersion: "ramp.dev/v1alpha1", kind: "Rollout", name: "web", uid: UID, controller: true };

function web(
  status: LiveRollout["status"],
  extra: Partial<LiveRollout["spec"]> = {},
  name = "web",
  namespace = "shop",
): LiveRollout {
  return {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace, uid: UID, generation: 1, creationTimestamp: "2026-01-01T00:00:00Z" },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:2" }] } },
      strategy: { canary: { steps: [{ setWeight: 25 }, { pause: {} }] } },
      ...extra,
    } as LiveRollout["spec"],
    ...(status ? { status } : {}),
  };
}

const weights = (canary: number) => ({ canary: { weight: canary, podTemplateHash: "new" }, stable: { weight: 100 - canary } });
const atStep = (step: number, canary: number) =>
  web({
    phase: "Progressing",
    stableRS: "old",
    currentPodHash: "new",
    currentStepIndex: step,
    canary: { weights: weights(canary) },
  });

describe("rolloutRows", () => {
  it("by namespace then name; the weight only once the controller reported one", () => {
    const rows = rolloutRows([atStep(1, 25), web(undefined, {}, "api"), web(undefined, {}, "zed", "a-ns")]);
    expect(rows.map((r) => [r.namespace, r.name, r.phase, r.step, r.weight])).toEqual([
      ["a-ns", "zed", "Progressing", "0/2", undefined],
      ["shop", "api", "Progressing", "0/2", undefined],
      ["shop", "web", "Progressing", "1/2", 25],
    ]);
  });
});

describe("recordHistory", () => {
  const start: HistoryPoint[] = [{ t: 1, weight: 0, step: 0 }];
  it.each([
    ["no status yet: nothing", [], web(undefined), []],
    ["a new weight", start, atStep(0, 25), [...start, { t: 9, weight: 25, step: 0 }]],
    [
      "a new step, same weight",
      [{ t: 1, weight: 25, step: 0 }],
      atStep(1, 25),
      [
        { t: 1, weight: 25, step: 0 },
        { t: 9, weight: 25, step: 1 },
      ],
    ],
    ["nothing new: unchanged", [{ t: 1, weight: 25, step: 1 }], atStep(1, 25), [{ t: 1, weight: 25, step: 1 }]],
  ] as const)("%s", (_what, history, r, expected) => expect(recordHistory([...history], r, 9)).toEqual(expected));

  it("keeps the newest `limit` points", () => {
    const long = Array.from({ length: 5 }, (_, i) => ({ t: i, weight: i, step: 0 }));
    expect(recordHistory(long, atStep(0, 50), 9, 3).map((p) => p.weight)).toEqual([3, 4, 50]);
  });
});

describe("rolloutDetail", () => {
  const rs = (hash: string, revision: number): ReplicaSetObject => ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${hash}`,
      namespace: "shop",
      labels: { "ramp.dev/pod-template-hash": hash },
      annotations: { "ramp.dev/revision": String(revision) },
      ownerReferences: [owner],
    },
    spec: { replicas: 2, selector: {}, template: { spec: { containers: [{ name: "web", image: `web:${revision}` }] } } },
    status: { readyReplicas: 1, availableReplicas: 1 },
  });
  const pod = (name: string, rsName: string, ready: boolean): PodObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rsName, uid: "x", controller: true }],
    },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  });
  const event = (name: string, kind: string, about: string, time: string, resourceVersion: string): EventObject => ({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name, namespace: "shop", resourceVersion },
    involvedObject: { kind, name: about, namespace: "shop" },
    reason: name,
    message: `${name} happened`,
    lastTimestamp: time,
  });
  const run: AnalysisRunObject = {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "AnalysisRun",
    metadata: {
      name: "web-new-step1",
      namespace: "shop",
      ownerReferences: [owner],
      labels: { "ramp.dev/analysis-role": "step" },
    },
    spec: { metrics: [{ name: "errors", successCondition: "result[0] <= 0.05", provider: { prometheus: { query: "q" } } }] },
    status: {
      phase: "Running",
      metricResults: [
        {
          name: "errors",
          phase: "Running",
          measurements: [
            { phase: "Successful", value: "[0.01]", finishedAt: "2026-01-01T00:00:10Z" },
            { phase: "Error", finishedAt: "2026-01-01T00:00:20Z" },
            { phase: "Running", startedAt: "bad time" },
          ],
        },
      ],
    },
  } as unknown as AnalysisRunObject;

  const detail = rolloutDetail(
    atStep(1, 25),
    {
      replicaSets: [
        rs("old", 1),
        rs("new", 2),
        { ...rs("other", 1), metadata: { ...rs("other", 1).metadata, ownerReferences: [] } },
      ],
      pods: [
        pod("web-new-b", "web-new", false),
        pod("web-new-a", "web-new", true),
        pod("web-old-a", "web-old", true),
        pod("x", "nobody", true),
      ],
      runs: [run],
      events: [
        event("First", "Rollout", "web", "2026-01-01T00:00:01Z", "10"),
        event("SameSecondLater", "Rollout", "web", "2026-01-01T00:00:05Z", "12"),
        event("SameSecondEarlier", "Rollout", "web", "2026-01-01T00:00:05Z", "11"),
        event("RunDone", "AnalysisRun", "web-new-step1", "2026-01-01T00:00:03Z", "13"),
        event("NotOurs", "Rollout", "api", "2026-01-01T00:00:09Z", "14"),
      ],
    },
    [],
  );

  it("its ReplicaSets (newest first), each with its own pods' readiness", () => {
    expect(detail.view.replicaSets.map((r) => [r.hash, r.role])).toEqual([
      ["new", "canary"],
      ["old", "stable"],
    ]);
    expect(detail.pods).toEqual({
      new: [
        { name: "web-new-a", phase: "Running", ready: true },
        { name: "web-new-b", phase: "Running", ready: false },
      ],
      old: [{ name: "web-old-a", phase: "Running", ready: true }],
    });
  });

  it("its events and its runs' events, newest first (within a second, the later write first)", () => {
    expect(detail.events.map((e) => e.reason)).toEqual(["SameSecondLater", "SameSecondEarlier", "RunDone", "First"]);
  });

  it("each metric's measurements as numbers (null without a value; no time: left out) and its threshold", () => {
    expect(detail.runs).toEqual([
      {
        name: "web-new-step1",
        role: "step",
        phase: "Running",
        metrics: [
          {
            name: "errors",
            phase: "Running",
            successCondition: "result[0] <= 0.05",
            thresholds: [{ condition: "success", op: "<=", value: 0.05 }],
            points: [
              { t: Date.parse("2026-01-01T00:00:10Z"), value: 0.01, phase: "Successful" },
              { t: Date.parse("2026-01-01T00:00:20Z"), value: null, phase: "Error" },
            ],
          },
        ],
      },
    ]);
  });
});
