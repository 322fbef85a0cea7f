import { describe, expect, it } from "vitest";
import { podTemplateHash } from "../api/pod-template-hash.ts";
import { type RolloutStatus, rolloutSpec } from "../api/rollout.ts";
import type { PodTemplate, ReplicaSetObject } from "./objects.ts";
import {
  abort,
  type LiveRollout,
  mergePatch,
  pause,
  promote,
  restart,
  resume,
  retry,
  setImages,
  settled,
  undo,
  unstore,
} from "./operations.ts";

const STEPS = [{ setWeight: 20 }, { pause: { duration: "5s" } }, { setWeight: 50 }, { pause: {} }];
const template = (image: string, extra: Record<string, unknown> = {}): PodTemplate => ({
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "web", image, env: [], ...extra }] },
});
const CANARY = { canary: { steps: STEPS } };
const BLUE_GREEN = { blueGreen: { activeService: "web-active", autoPromotionEnabled: false } };

function rollout(status: RolloutStatus, spec: Record<string, unknown> = {}, strategy: object = CANARY): LiveRollout {
  return {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: "shop", uid: "u1", generation: 2, resourceVersion: "7" },
    spec: rolloutSpec.parse({ selector: { matchLabels: { app: "web" } }, template: template("web:2"), strategy, ...spec }),
    status,
  };
}
const paused = (reason: string, index?: number): RolloutStatus => ({
  stableRS: "v1",
  currentPodHash: "v2",
  ...(index !== undefined ? { currentStepIndex: index } : {}),
  pauseConditions: [{ reason, startTime: "2026-01-01T00:00:00Z" }],
  controllerPause: true,
});
const MID = { stableRS: "v1", currentPodHash: "v2", currentStepIndex: 1 };
const CLEAR = { pauseConditions: [], controllerPause: false };

describe("promote", () => {
  it.each([
    ["canary at a pause step: next step", rollout(paused("CanaryPauseStep", 1)), { currentStepIndex: 2, ...CLEAR }, undefined],
    ["canary at the last pause: past it", rollout(paused("CanaryPauseStep", 3)), { currentStepIndex: 4, ...CLEAR }, undefined],
    ["canary not paused: skips the current step", rollout({ ...MID, currentStepIndex: 0 }), { currentStepIndex: 1 }, undefined],
    [
      "canary held by background analysis on a weight step",
      rollout(paused("InconclusiveAnalysisRun", 2)),
      { currentStepIndex: 2, ...CLEAR },
      undefined,
    ],
    [
      "canary at a failed gate: past it",
      rollout(
        paused("GateFailed", 1),
        {},
        { canary: { steps: [{ setWeight: 20 }, { gate: { name: "ok", url: "http://ok" } }] } },
      ),
      { currentStepIndex: 2, ...CLEAR },
      undefined,
    ],
    ["spec.paused alone: unpause only", rollout(MID, { paused: true }), undefined, { paused: false }],
    [
      "spec.paused and a pause step",
      rollout(paused("CanaryPauseStep", 1), { paused: true }),
      { currentStepIndex: 2, ...CLEAR },
      { paused: false },
    ],
    [
      "blue-green paused: pauses cleared, controllerPause kept",
      rollout(paused("BlueGreenPause"), {}, BLUE_GREEN),
      { pauseConditions: [] },
      undefined,
    ],
    ["blue-green not paused", rollout(MID, {}, BLUE_GREEN), undefined, undefined],
    ["already stable", rollout({ stableRS: "v2", currentPodHash: "v2", currentStepIndex: 4 }), undefined, undefined],
  ])("%s", (_, r, status, spec) => {
    const change = promote(r);
    expect(change.status).toEqual(status);
    expect(change.spec).toEqual(spec);
  });

  it.each([
    ["canary", rollout(paused("CanaryPauseStep", 1), { paused: true })],
    ["blue-green", rollout(paused("BlueGreenPause"), { paused: true }, BLUE_GREEN)],
  ])("--full: %s", (_, r) => {
    expect(promote(r, true)).toMatchObject({ status: { promoteFull: true, ...CLEAR }, spec: { paused: false } });
  });

  it("refuses an aborted rollout", () => {
    expect(() => promote(rollout({ ...MID, abort: true }))).toThrow('rollout "web" is aborted; `ramp retry` starts it again');
  });

  it("takes a rollout whose retry is asked", () => {
    expect(promote(rollout({ ...MID, abort: true, retry: true }), true).status).toMatchObject({ promoteFull: true });
  });
});

describe("abort, retry, pause, resume, restart", () => {
  const ABORTED = { ...MID, abort: true, abortedAt: "2026-01-01T00:00:00Z" };
  it.each([
    ["abort mid-update", abort(rollout(MID)), { status: { abort: true } }],
    ["abort twice", abort(rollout(ABORTED)), { status: undefined }],
    ["abort a stable rollout", abort(rollout({ stableRS: "v2", currentPodHash: "v2" })), { status: undefined }],
    ["retry a canary: asked, the controller takes it up", retry(rollout(ABORTED)), { status: { retry: true } }],
    ["retry blue-green", retry(rollout(ABORTED, {}, BLUE_GREEN)), { status: { retry: true } }],
    ["retry what is not aborted", retry(rollout(MID)), { status: undefined }],
    ["retry twice", retry(rollout({ ...ABORTED, retry: true })), { status: undefined }],
    ["abort while a retry is asked", abort(rollout({ ...ABORTED, retry: true })), { status: { abort: true, retry: false } }],
    ["pause", pause(rollout(MID)), { spec: { paused: true } }],
    ["pause twice", pause(rollout(MID, { paused: true })), { spec: undefined }],
    [
      "resume keeps the controller's pauses",
      resume(rollout(paused("CanaryPauseStep", 1), { paused: true })),
      { spec: { paused: false }, status: undefined },
    ],
    ["resume what is not paused", resume(rollout(MID)), { spec: undefined }],
    [
      "restart, at the next whole second",
      restart(new Date("2026-01-02T03:04:05.678Z")),
      { spec: { restartAt: "2026-01-02T03:04:06Z" } },
    ],
    ["restart on a whole second", restart(new Date("2026-01-02T03:04:05.000Z")), { spec: { restartAt: "2026-01-02T03:04:06Z" } }],
  ])("%s", (_, change, expected) => {
    expect({ status: change.status, spec: change.spec }).toEqual({ status: undefined, spec: undefined, ...expected });
    expect(change.summary).not.toBe("");
  });
});

describe("setImages", () => {
  const withInit = rollout(MID, {
    template: {
      ...template("web:2"),
      spec: { containers: [{ name: "web", image: "web:2" }], initContainers: [{ name: "init", image: "init:1" }] },
    },
  });
  it.each([
    ["one container", rollout(MID), ["web=web:3"], { spec: { containers: [{ name: "web", image: "web:3", env: [] }] } }],
    ["an init container", withInit, ["init=init:2"], { spec: { initContainers: [{ name: "init", image: "init:2" }] } }],
  ])("%s", (_, r, args, patch) => {
    expect(setImages(r, args).spec).toEqual({ template: patch });
  });

  it.each([
    [rollout(MID), ["db=db:1"], 'rollout "web" has no container "db"; it has web'],
    [rollout(MID), ["web"], 'expected CONTAINER=IMAGE, got "web"'],
    [
      rollout(MID, { template: undefined, workloadRef: { name: "web-deploy" } }),
      ["web=web:3"],
      'takes its pod template from Deployment "web-deploy" (workloadRef)',
    ],
  ])("refuses %j %j", (r, args, message) => {
    expect(() => setImages(r, args)).toThrow(message);
  });
});

/** A ReplicaSet as the apiserver stores it: hash label added, defaults filled in, empty lists dropped. */
function replicaSet(revision: number, written: PodTemplate, owner = "u1"): ReplicaSetObject {
  const hash = podTemplateHash(written);
  const containers = written.spec.containers.map(({ env, ...c }) => ({
    ...c,
    ...(Array.isArray(env) && env.length ? { env } : {}),
    imagePullPolicy: "IfNotPresent",
    terminationMessagePath: "/dev/termination-log",
  }));
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${hash}`,
      namespace: "shop",
      labels: { app: "web", "ramp.dev/pod-template-hash": hash },
      annotations: { "ramp.dev/revision": String(revision) },
      ownerReferences: [{ apiVersion: "ramp.dev/v1alpha1", kind: "Rollout", name: "web", uid: owner, controller: true }],
    },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { ...written.metadata, labels: { app: "web", "ramp.dev/pod-template-hash": hash } },
        spec: { ...written.spec, containers, dnsPolicy: "ClusterFirst", restartPolicy: "Always" },
      },
    },
  };
}

describe("undo", () => {
  const [v1, v2, v3] = [template("web:1"), template("web:2"), template("web:3")];
  const history = [replicaSet(1, v1), replicaSet(2, v2), replicaSet(3, v3), replicaSet(9, template("other:1"), "u2")];
  const pulled = (image: string) => template(image, { imagePullPolicy: "IfNotPresent" });
  const at = (t: PodTemplate) => rollout(MID, { template: t });

  it.each([
    ["to the previous revision", at(v2), history.slice(0, 2), undefined, v1, 1],
    ["to a given revision", at(v1), history, 3, v3, 3],
    ["back again after an undo", at(v1), history.slice(0, 2), undefined, v2, 2],
    ["past another Rollout's ReplicaSets", at(v3), [history[3]!, ...history.slice(0, 3)], undefined, v2, 2],
    [
      "keeping a default written in both",
      at(pulled("web:2")),
      [replicaSet(1, pulled("web:1")), replicaSet(2, pulled("web:2"))],
      undefined,
      pulled("web:1"),
      1,
    ],
  ])("%s", (_, r, replicaSets, toRevision, expected, revision) => {
    const change = undo(r, replicaSets, toRevision);
    expect(change.spec).toEqual({ template: mergePatch(r.spec.template, expected) });
    expect(change.summary).toBe(`back to revision ${revision} (${podTemplateHash(expected)})`);
  });

  it.each([
    // Nothing to learn the apiserver's defaults from: no ReplicaSet of the current template.
    ["without the current revision's ReplicaSet", at(v2), history.slice(0, 1)],
    ["when a default was written in one revision only", at(v2), [replicaSet(1, pulled("web:1")), replicaSet(2, v2)]],
  ])("says when the restored template hashes otherwise: %s", (_, r, replicaSets) => {
    expect(undo(r, replicaSets).summary).toMatch(/so it rolls out as a new revision$/);
  });

  // A baseline runs an older template under its own hash, with no revision: never one to go back to.
  const baseline = (t: PodTemplate): ReplicaSetObject => {
    const rs = replicaSet(0, t);
    const labels = { app: "web", "ramp.dev/pod-template-hash": "x-baseline", "ramp.dev/role": "baseline" };
    return { ...rs, metadata: { ...rs.metadata, name: "web-x-baseline", labels, annotations: {} } };
  };

  it.each([
    [at(v2), history.slice(1, 2), undefined, 'rollout "web" has no earlier revision to go back to (revisions: 2)'],
    [at(v2), [history[1]!, baseline(v1)], undefined, 'rollout "web" has no earlier revision to go back to (revisions: 2)'],
    [at(v2), history.slice(0, 2), 5, 'rollout "web" has no revision 5 (revisions: 1, 2)'],
  ])("refuses %#", (r, replicaSets, toRevision, message) => {
    expect(() => undo(r, replicaSets, toRevision)).toThrow(message);
  });

  it.each([
    ["the revision before stable, window 1", 1, 2, undefined, "; within rollbackWindow (1): no steps or analysis"],
    ["two before stable, window 1", 1, 3, 1, ""],
    ["two before stable, window 2", 2, 3, 1, "; within rollbackWindow (2): no steps or analysis"],
    ["no window", 0, 2, undefined, ""],
  ])("says when the controller will skip the steps: %s", (_, revisions, stableRevision, toRevision, says) => {
    const stable = [v1, v2, v3][stableRevision - 1] as PodTemplate;
    const r = rollout(
      { stableRS: podTemplateHash(stable), currentPodHash: podTemplateHash(stable) },
      { template: stable, ...(revisions ? { rollbackWindow: { revisions } } : {}) },
    );
    const target = toRevision ?? stableRevision - 1;
    expect(undo(r, history.slice(0, stableRevision), toRevision).summary).toBe(
      `back to revision ${target} (${podTemplateHash([v1, v2, v3][target - 1])})${says}`,
    );
  });

  it("does nothing at the asked revision", () => {
    expect(undo(at(v2), history, 2)).toEqual({ summary: `is already at revision 2 (${podTemplateHash(v2)})` });
  });
});

describe("unstore", () => {
  it.each([
    ["a default added", { a: 1, d: "x" }, { a: 2 }, { a: 2, d: "x" }, { a: 1 }],
    ["a default written stays", { a: 1, d: "x" }, { a: 2, d: "x" }, { a: 2, d: "x" }, { a: 1, d: "x" }],
    ["an empty list dropped", { a: 1 }, { a: 2, env: [] }, { a: 2 }, { a: 1, env: [] }],
    ["a default with another value stays", { a: 1, d: "y" }, { a: 2 }, { a: 2, d: "x" }, { a: 1, d: "y" }],
    [
      "list items by name",
      {
        c: [
          { name: "b", p: 1 },
          { name: "a", p: 1 },
        ],
      },
      { c: [{ name: "a" }, { name: "b" }] },
      {
        c: [
          { name: "a", p: 1 },
          { name: "b", p: 1 },
        ],
      },
      { c: [{ name: "b" }, { name: "a" }] },
    ],
  ])("%s", (_, target, written, stored, expected) => {
    expect(unstore(target, written, stored)).toEqual(expected);
  });
});

describe("mergePatch", () => {
  it.each([
    [{ a: 1, b: 2 }, { a: 1 }, { b: null }],
    [{ a: { x: 1, y: 2 } }, { a: { x: 1, y: 3 } }, { a: { y: 3 } }],
    [{ l: [1, 2] }, { l: [1] }, { l: [1] }],
    [{ a: 1 }, { a: 1 }, {}],
    [{ a: 1 }, { a: { n: 1 } }, { a: { n: 1 } }],
  ])("%j -> %j", (from, to, patch) => {
    expect(mergePatch(from, to)).toEqual(patch);
  });
});

describe("settled", () => {
  const at = (status: RolloutStatus, generation = 2) => ({
    ...rollout(status),
    metadata: { ...rollout(status).metadata, generation },
  });
  it.each([
    ["healthy", at({ phase: "Healthy", observedGeneration: 2 }), 0],
    ["healthy, but for an older spec", at({ phase: "Healthy", observedGeneration: 1 }), undefined],
    ["degraded", at({ phase: "Degraded", observedGeneration: 2, abort: true, abortedAt: "t" }), 1],
    ["degraded by the progress deadline", at({ phase: "Degraded", observedGeneration: 2 }), 1],
    [
      "a retry not yet taken up",
      at({ phase: "Degraded", observedGeneration: 2, abort: true, abortedAt: "t", retry: true }),
      undefined,
    ],
    ["an Argo-style retry not yet taken up", at({ phase: "Degraded", observedGeneration: 2, abortedAt: "t" }), undefined],
    ["paused", at({ phase: "Paused", observedGeneration: 2 }), undefined],
    ["no status yet", { ...rollout({}), status: undefined }, undefined],
  ])("%s", (_, r, code) => {
    expect(settled(r)).toBe(code);
  });
});
