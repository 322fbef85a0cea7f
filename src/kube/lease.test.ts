import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { type KubeClient, KubeError, type KubeObject } from "./client.ts";
import {
  decideLease,
  LeaderElector,
  type LeaderElectorOptions,
  type Lease,
  type LeaseSpec,
  leaseAttemptTimeoutMs,
  microTime,
} from "./lease.ts";

const NOW = new Date("2026-01-02T03:04:05.678Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const OLD = "2026-01-01T00:00:00.000000Z";

describe("decideLease", () => {
  it.each<{
    case: string;
    lease: LeaseSpec | undefined;
    observedAgoMs?: number;
    action: string;
    leader: string;
    transitions?: number;
  }>([
    { case: "no Lease: create it", lease: undefined, action: "create", leader: "me", transitions: 0 },
    {
      case: "our own Lease: renew, keeping acquireTime and transitions",
      lease: { holderIdentity: "me", leaseDurationSeconds: 15, acquireTime: OLD, renewTime: OLD, leaseTransitions: 3 },
      observedAgoMs: 60_000,
      action: "renew",
      leader: "me",
      transitions: 3,
    },
    {
      case: "another's Lease seen changing 5s ago: wait",
      lease: { holderIdentity: "other", leaseDurationSeconds: 15, renewTime: OLD, leaseTransitions: 3 },
      observedAgoMs: 5_000,
      action: "wait",
      leader: "other",
    },
    {
      case: "another's Lease unchanged for its whole duration: acquire, one more transition",
      lease: { holderIdentity: "other", leaseDurationSeconds: 15, renewTime: OLD, leaseTransitions: 3 },
      observedAgoMs: 15_000,
      action: "acquire",
      leader: "me",
      transitions: 4,
    },
    {
      case: "empty holder (released): acquire at once",
      lease: { holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(NOW), leaseTransitions: 3 },
      observedAgoMs: 0,
      action: "acquire",
      leader: "me",
      transitions: 4,
    },
    {
      case: "no holder field, no transitions yet: acquire",
      lease: {},
      observedAgoMs: 0,
      action: "acquire",
      leader: "me",
      transitions: 1,
    },
    {
      case: "skew: holder's clock 1h behind (renewTime long past) but renewed 5s ago as we saw it: wait",
      lease: { holderIdentity: "other", leaseDurationSeconds: 15, renewTime: microTime(ago(3_600_000)) },
      observedAgoMs: 5_000,
      action: "wait",
      leader: "other",
    },
    {
      case: "skew: holder's clock 1h ahead (renewTime in the future) but unchanged for 20s: acquire",
      lease: { holderIdentity: "other", leaseDurationSeconds: 15, renewTime: microTime(new Date(NOW.getTime() + 3_600_000)) },
      observedAgoMs: 20_000,
      action: "acquire",
      leader: "me",
      transitions: 1,
    },
    {
      case: "the holder's own longer duration counts: 60s Lease unchanged for 20s: wait",
      lease: { holderIdentity: "other", leaseDurationSeconds: 60, renewTime: OLD },
      observedAgoMs: 20_000,
      action: "wait",
      leader: "other",
    },
    {
      case: "no duration in the Lease: ours (15s) counts",
      lease: { holderIdentity: "other", renewTime: OLD },
      observedAgoMs: 15_001,
      action: "acquire",
      leader: "me",
      transitions: 1,
    },
  ])("$case", ({ lease, observedAgoMs, action, leader, transitions }) => {
    const decision = decideLease({
      lease,
      identity: "me",
      now: NOW,
      leaseDurationMs: 15_000,
      observedAt: ago(observedAgoMs ?? 0),
    });
    expect(decision.action).toBe(action);
    expect(decision.leader).toBe(leader);
    if (decision.action === "wait") return;
    expect(decision.spec).toEqual({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      acquireTime: decision.action === "renew" ? OLD : "2026-01-02T03:04:05.678000Z",
      renewTime: "2026-01-02T03:04:05.678000Z",
      leaseTransitions: transitions,
    });
  });

  it.each([
    { leaseDurationMs: 15_000, seconds: 15 },
    { leaseDurationMs: 2_500, seconds: 3 },
    { leaseDurationMs: 200, seconds: 1 },
  ])("writes a $leaseDurationMs ms lease as $seconds whole seconds", ({ leaseDurationMs, seconds }) => {
    const decision = decideLease({ lease: undefined, identity: "me", now: NOW, leaseDurationMs, observedAt: NOW });
    expect(decision.action === "create" && decision.spec.leaseDurationSeconds).toBe(seconds);
  });
});

describe("leaseAttemptTimeoutMs", () => {
  it.each([
    { renewDeadlineMs: 10_000, retryPeriodMs: 2_000, attemptMs: 4_000 },
    { renewDeadlineMs: 15_000, retryPeriodMs: 1_000, attemptMs: 7_000 },
    { renewDeadlineMs: 250, retryPeriodMs: 30, attemptMs: 110 },
  ])(
    "renew deadline $renewDeadlineMs ms, retry period $retryPeriodMs ms: $attemptMs ms an attempt, so a second one fits",
    ({ renewDeadlineMs, retryPeriodMs, attemptMs }) => {
      expect(leaseAttemptTimeoutMs({ renewDeadlineMs, retryPeriodMs })).toBe(attemptMs);
      expect(retryPeriodMs + 2 * attemptMs).toBeLessThanOrEqual(renewDeadlineMs);
    },
  );
});

/** An in-memory Lease store with the apiserver's resourceVersion checks; `mode` makes calls fail or hang. */
function fakeApiserver() {
  let stored: Lease | undefined;
  let version = 0;
  const state = { mode: "ok" as "ok" | "error" | "hang" | "hang once", writes: 0, reads: 0 };
  const gate = async () => {
    if (state.mode === "error") throw new KubeError(503, "ServiceUnavailable", "the apiserver is down");
    if (state.mode === "hang once") state.mode = "ok";
    else if (state.mode !== "hang") return;
    await new Promise(() => {});
  };
  const save = (obj: KubeObject) => {
    state.writes++;
    stored = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++version) } }) as Lease;
    return structuredClone(stored);
  };
  const client = {
    async get() {
      state.reads++;
      await gate();
      if (!stored) throw new KubeError(404, "NotFound", "leases not found");
      return structuredClone(stored);
    },
    async create(obj: KubeObject) {
      await gate();
      if (stored) throw new KubeError(409, "AlreadyExists", "already exists");
      return save(obj);
    },
    async replace(obj: KubeObject) {
      await gate();
      if (obj.metadata.resourceVersion !== stored?.metadata.resourceVersion) throw new KubeError(409, "Conflict", "stale");
      return save(obj);
    },
  };
  return { client: client as unknown as KubeClient, state, lease: () => stored };
}

const FAST: LeaderElectorOptions = {
  namespace: "ns",
  name: "lock",
  identity: "me",
  leaseDurationMs: 400,
  renewDeadlineMs: 250,
  retryPeriodMs: 30,
};

function callbacks() {
  const events: string[] = [];
  let leadership: AbortSignal | undefined;
  return {
    events,
    leadership: () => leadership,
    callbacks: {
      onStartedLeading: (signal: AbortSignal) => {
        leadership = signal;
        events.push("started");
      },
      onStoppedLeading: () => events.push("stopped"),
      onNewLeader: (identity: string) => events.push(`leader ${identity}`),
    },
  };
}

async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(5);
  }
}

/** An elector that leads on a fake apiserver; `stop` ends its run. */
async function leadingElector() {
  const api = fakeApiserver();
  const cb = callbacks();
  const elector = new LeaderElector(api.client, FAST);
  const stop = new AbortController();
  const run = elector.run(cb.callbacks, stop.signal);
  await until(() => elector.isLeader);
  return { api, cb, elector, stop, run };
}

describe("LeaderElector", () => {
  it.each([
    { change: { identity: "" }, message: "identity must not be empty" },
    { change: { retryPeriodMs: 0 }, message: "retryPeriodMs (0) must be above 0" },
    { change: { renewDeadlineMs: 30 }, message: "renewDeadlineMs (30) must be greater than retryPeriodMs (30)" },
    { change: { leaseDurationMs: 250 }, message: "leaseDurationMs (250) must be greater than renewDeadlineMs (250)" },
  ])("rejects $change", ({ change, message }) => {
    expect(() => new LeaderElector(fakeApiserver().client, { ...FAST, ...change })).toThrow(message);
  });

  it.each(["error", "hang"] as const)(
    "leads and renews; once renewals %s past the renew deadline it stops leading, once, and run returns",
    async (mode) => {
      const api = fakeApiserver();
      const cb = callbacks();
      const elector = new LeaderElector(api.client, FAST);
      const run = elector.run(cb.callbacks, new AbortController().signal);
      await until(() => elector.isLeader);
      const writes = api.state.writes;
      await until(() => api.state.writes >= writes + 3);
      expect(api.lease()?.spec).toMatchObject({ holderIdentity: "me", leaseDurationSeconds: 1, leaseTransitions: 0 });
      api.state.mode = mode;
      const failedAt = Date.now();
      await run;
      expect(Date.now() - failedAt).toBeLessThan(FAST.renewDeadlineMs + 100);
      expect(elector.isLeader).toBe(false);
      expect(cb.leadership()?.aborted).toBe(true);
      expect(cb.events).toEqual(["leader me", "started", "stopped"]);
    },
  );

  it("the leader renews what it last wrote without reading it first: one request a retry period", async () => {
    const { api, elector, stop, run } = await leadingElector();
    const [reads, writes] = [api.state.reads, api.state.writes];
    await until(() => api.state.writes >= writes + 5);
    expect(api.state.reads).toBe(reads);
    expect(elector.isLeader).toBe(true);
    stop.abort();
    await run;
  });

  it("a renewal that hangs is given up after one attempt's time and tried again: it keeps leading", async () => {
    const { api, cb, elector, stop, run } = await leadingElector();
    const writes = api.state.writes;
    api.state.mode = "hang once";
    // Waiting out the hung call (the deadline's worth) would leave no time to renew before the deadline.
    await until(() => api.state.writes >= writes + 3);
    expect(elector.isLeader).toBe(true);
    expect(cb.events).toEqual(["leader me", "started"]);
    stop.abort();
    await run;
  });

  it("retries transient errors while standing by, and leads once the apiserver answers", async () => {
    const api = fakeApiserver();
    api.state.mode = "error";
    const logs: string[] = [];
    const elector = new LeaderElector(api.client, { ...FAST, log: (m) => logs.push(m) });
    const cb = callbacks();
    const stop = new AbortController();
    const run = elector.run(cb.callbacks, stop.signal);
    await until(() => logs.length >= 3);
    expect(logs[0]).toBe("Lease ns/lock: the apiserver is down; retrying");
    api.state.mode = "ok";
    await until(() => elector.isLeader);
    stop.abort();
    await run;
    expect(cb.events).toEqual(["leader me", "started", "stopped"]);
  });

  it("stops at once when it sees another holder, without waiting for the deadline", async () => {
    const api = fakeApiserver();
    const cb = callbacks();
    const elector = new LeaderElector(api.client, { ...FAST, renewDeadlineMs: 5_000, leaseDurationMs: 10_000 });
    const run = elector.run(cb.callbacks, new AbortController().signal);
    await until(() => elector.isLeader);
    const lease = api.lease() as Lease;
    await api.client.replace({ ...lease, spec: { ...lease.spec, holderIdentity: "usurper" } });
    await run;
    expect(cb.events).toEqual(["leader me", "started", "leader usurper", "stopped"]);
    expect(elector.isLeader).toBe(false);
  });

  it("on abort stops leading but keeps the Lease; release() then hands it over with an empty holder", async () => {
    const { api, cb, elector, stop, run } = await leadingElector();
    stop.abort();
    await run;
    expect(elector.isLeader).toBe(false);
    expect(cb.events).toEqual(["leader me", "started", "stopped"]);
    expect(api.lease()?.spec?.holderIdentity).toBe("me");
    await elector.release();
    expect(api.lease()?.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 0 });
    const writes = api.state.writes;
    await elector.release();
    expect(api.state.writes).toBe(writes);
  });

  it("release() of a replica that never led writes nothing", async () => {
    const api = fakeApiserver();
    await api.client.create({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "lock" },
      spec: { holderIdentity: "other", leaseDurationSeconds: 60 },
    });
    const elector = new LeaderElector(api.client, FAST);
    const run = elector.run(callbacks().callbacks, new AbortController().signal);
    await sleep(100);
    expect(elector.isLeader).toBe(false);
    await elector.release();
    await run;
    expect(api.lease()?.spec?.holderIdentity).toBe("other");
    expect(api.state.writes).toBe(1);
  });
});
