// The apply step on a fake apiserver: each action is one request of the right kind, remembered in
// its cache; what the apiserver refuses for good becomes a spec problem, history is best effort.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../../api/pod-template-hash.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import type { Action, Observed } from "../plan/types.ts";
import { type ApplyInput, applyAction, applyActions } from "./apply.ts";
import { BackgroundWrites, SpecProblem } from "./context.ts";
import { rolloutObject, type ShellFixture, shellFixture, spec } from "./fixtures.ts";

const S = spec();
const rollout = rolloutObject(S);
const observed = { spec: S, status: {}, templateHash: "h2" } as unknown as Observed;
const input: ApplyInput = { rollout, observed, template: S.template as ApplyInput["template"] };
const ns = "/namespaces/ns";
const rs = (name: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: "ns", labels: { [POD_TEMPLATE_HASH_LABEL]: name.split("-")[1] ?? "" } },
  spec: { replicas: 1 },
});

describe("applyAction", () => {
  let f: ShellFixture;
  beforeAll(async () => {
    f = await shellFixture();
    f.apiserver.put(
      rs("web-h1"),
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web-stable", namespace: "ns" },
        spec: { selector: { app: "web" } },
      },
      { apiVersion: API_VERSION, kind: "AnalysisRun", metadata: { name: "web-h1-bg", namespace: "ns" }, spec: {} },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "web-h1-abcde", namespace: "ns" } },
      { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: "web-h0", namespace: "ns" } },
    );
  });
  afterAll(() => f.apiserver.stop());

  it.each<{ action: Action; call: string; body?: unknown }>([
    {
      action: { type: "createReplicaSet", hash: "h2", revision: 2, replicas: 1 },
      call: `POST /apis/apps/v1${ns}/replicasets`,
      body: { metadata: { name: "web-h2" }, spec: { replicas: 1 } },
    },
    {
      action: { type: "scaleReplicaSet", name: "web-h1", replicas: 3 },
      call: `PATCH /apis/apps/v1${ns}/replicasets/web-h1`,
      body: { spec: { replicas: 3 } },
    },
    {
      action: { type: "setScaleDownAt", name: "web-h1", at: "2026-12-02T00:00:30Z" },
      call: `PATCH /apis/apps/v1${ns}/replicasets/web-h1`,
      body: { metadata: { annotations: { "ramp.dev/scale-down-at": "2026-12-02T00:00:30Z" } } },
    },
    {
      action: { type: "setServiceSelector", service: "web-stable", hash: "h1" },
      call: `PATCH /api/v1${ns}/services/web-stable`,
      body: { spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: "h1" } } },
    },
    {
      action: { type: "terminateAnalysisRun", name: "web-h1-bg" },
      call: `PATCH /apis/${API_VERSION}${ns}/analysisruns/web-h1-bg`,
      body: { spec: { terminate: true } },
    },
    {
      action: { type: "saveRevision", hash: "h2", revision: 2 },
      call: `POST /apis/apps/v1${ns}/controllerrevisions`,
      body: { metadata: { name: "web-h2" }, revision: 2 },
    },
    { action: { type: "deleteRevision", name: "web-h0" }, call: `DELETE /apis/apps/v1${ns}/controllerrevisions/web-h0` },
    { action: { type: "deletePod", name: "web-h1-abcde" }, call: `DELETE /api/v1${ns}/pods/web-h1-abcde` },
    { action: { type: "event", reason: "RolloutUpdated", message: "m" }, call: "" },
    {
      action: { type: "callGate", name: "g", url: "http://127.0.0.1:1/", stepIndex: 0, attempt: 1, timeoutMs: 1000 },
      call: "",
    },
  ])("$action.type: $call", async ({ action, call, body }) => {
    const before = f.apiserver.requests.length;
    await applyAction(f.ctx, input, action);
    await f.ctx.history.settled();
    const made = f.apiserver.requests.slice(before);
    expect(made.map((r) => `${r.method} ${r.path}`)).toEqual(call ? [call] : []);
    if (body) expect(made[0]?.body).toMatchObject(body as object);
  });

  it("remembers what it wrote, so the next reconcile sees it before the watch does", async () => {
    await applyAction(f.ctx, input, { type: "scaleReplicaSet", name: "web-h1", replicas: 4 });
    expect(f.ctx.caches.replicaSets.get("ns/web-h1")?.spec.replicas).toBe(4);
  });

  it("a ReplicaSet made already is fine: AlreadyExists is not an error", async () => {
    const again: Action = { type: "createReplicaSet", hash: "h2", revision: 2, replicas: 1 };
    await expect(applyAction(f.ctx, input, again)).resolves.toBeUndefined();
  });

  it.each<{ name: string; refuse: string; status: number; action: Action; problem: RegExp; refused?: object }>([
    {
      name: "a ReplicaSet the apiserver finds invalid",
      refuse: `/apis/apps/v1${ns}/replicasets`,
      status: 422,
      action: { type: "createReplicaSet", hash: "h3", revision: 3, replicas: 1 },
      problem: /^ReplicaSet "web-h3" is invalid/,
      // Held in the status, so the next reconcile does not send it again while the spec is the same.
      refused: { podTemplateHash: "h3", replicaSet: "web-h3" },
    },
    {
      name: "a Service that is gone",
      refuse: `/api/v1${ns}/services/web-gone`,
      status: 404,
      action: { type: "setServiceSelector", service: "web-gone", hash: "h1" },
      problem: /^Service "web-gone" not found$/,
    },
  ])("$name is a spec problem, naming it", async ({ refuse, status, action, problem, refused }) => {
    f.apiserver.refuse(refuse, status);
    try {
      const err = await applyAction(f.ctx, input, action).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpecProblem);
      expect((err as Error).message).toMatch(problem);
      expect((err as SpecProblem).refused).toEqual(refused && expect.objectContaining(refused));
    } finally {
      f.apiserver.allow(refuse);
    }
  });

  it("any other refusal fails the reconcile (backoff), not the spec", async () => {
    f.apiserver.refuse(`/apis/apps/v1${ns}/replicasets/web-h1`, 500);
    try {
      const err = await applyAction(f.ctx, input, { type: "scaleReplicaSet", name: "web-h1", replicas: 2 }).catch(
        (e: unknown) => e,
      );
      expect(err).not.toBeInstanceOf(SpecProblem);
      expect(err).toMatchObject({ status: 500 });
    } finally {
      f.apiserver.allow(`/apis/apps/v1${ns}/replicasets/web-h1`);
    }
  });

  it("a history write that fails holds nothing up: a Warning Event says so", async () => {
    f.apiserver.refuse(`/apis/apps/v1${ns}/controllerrevisions`, 500);
    try {
      const before = f.apiserver.requests.length;
      await applyAction(f.ctx, input, { type: "saveRevision", hash: "h2", revision: 2 });
      // Written in the background, by the recorder.
      const event = () => f.apiserver.requests.slice(before).find((r) => r.path === `/api/v1${ns}/events`)?.body;
      await expect.poll(event).toMatchObject({ reason: "RevisionHistoryFailed", type: "Warning" });
    } finally {
      f.apiserver.allow(`/apis/apps/v1${ns}/controllerrevisions`);
    }
  });
});

describe("applyActions", () => {
  let f: ShellFixture;
  beforeAll(async () => {
    f = await shellFixture();
    f.apiserver.put(rs("web-h1"));
  });
  afterAll(() => f.apiserver.stop());

  it("keeps the planner's order for the ReplicaSets; revision history that fails holds none of it up", async () => {
    f.apiserver.refuse(`/apis/apps/v1${ns}/controllerrevisions`, 500);
    const actions: Action[] = [
      { type: "saveRevision", hash: "h2", revision: 2 },
      { type: "createReplicaSet", hash: "h2", revision: 2, replicas: 1 },
      { type: "scaleReplicaSet", name: "web-h1", replicas: 1 },
    ];
    await applyActions(f.ctx, input, actions);
    await f.ctx.history.settled();
    f.apiserver.allow(`/apis/apps/v1${ns}/controllerrevisions`);
    const writes = f.apiserver.calls.filter((c) => !c.includes("/events"));
    expect(writes.filter((c) => c.includes("/replicasets"))).toEqual([
      `POST /apis/apps/v1${ns}/replicasets`,
      `PATCH /apis/apps/v1${ns}/replicasets/web-h1`,
    ]);
    expect(writes).toContain(`POST /apis/apps/v1${ns}/controllerrevisions`);
  });

  it("issues revision history without waiting for it, and never a second write of a ControllerRevision under way", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const creates: string[] = [];
    const historyClient = Object.assign(Object.create(f.ctx.client) as KubeClient, {
      create: async <T extends KubeObject>(obj: T): Promise<T> => {
        creates.push(obj.metadata.name ?? "");
        await held;
        return f.ctx.client.create(obj);
      },
    });
    const ctx = { ...f.ctx, historyClient, history: new BackgroundWrites() };
    const save: Action = { type: "saveRevision", hash: "h2", revision: 2 };
    // Two reconciles in a row, each done while the first one's write is still held.
    await applyActions(ctx, input, [save, { type: "scaleReplicaSet", name: "web-h1", replicas: 2 }]);
    await applyActions(ctx, input, [save]);
    expect(ctx.history.size).toBe(1);
    release();
    await ctx.history.settled();
    expect(creates).toEqual(["web-h2"]);
    expect(f.apiserver.object("apps/v1", "ControllerRevision", "web-h2", "ns")).toBeDefined();
    expect(ctx.history.size).toBe(0);
  });
});
