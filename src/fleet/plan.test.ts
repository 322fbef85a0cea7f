import { describe, expect, it } from "vitest";
import { type FleetRolloutStatus, fleetRolloutSpec } from "../api/fleet.ts";
import {
  analysisRunName,
  type FleetAction,
  type FleetObserved,
  type MemberView,
  planFleet,
  RESYNC_MS,
  resolveWaves,
} from "./plan.ts";

const T0 = new Date("2026-12-02T10:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const REV = "r2";

const spec = (extra: Record<string, unknown> = {}) =>
  fleetRolloutSpec.parse({
    rolloutRef: { namespace: "shop", name: "web" },
    image: { image: "web:2" },
    waves: [
      { name: "first", clusters: ["eu-1"], soak: "10s" },
      { name: "rest", selector: { matchLabels: { tier: "main" } }, maxConcurrent: 1 },
    ],
    ...extra,
  });

const members = [
  { name: "eu-1", labels: { tier: "main" } },
  { name: "us-1", labels: { tier: "main" } },
  { name: "us-2", labels: { tier: "main" } },
  { name: "lab", labels: { tier: "lab" } },
];

const healthy = (revision?: string): MemberView => ({
  reachable: true,
  phase: "Healthy",
  settled: true,
  ...(revision ? { revision } : {}),
});
const progressing: MemberView = { reachable: true, revision: REV, phase: "Progressing", settled: false };
const degraded: MemberView = { reachable: true, revision: REV, phase: "Degraded", settled: false, message: "analysis failed" };
const unreachable: MemberView = { reachable: false, code: "MEMBER_UNREACHABLE", message: "connect ECONNREFUSED" };

const observed = (over: Partial<FleetObserved> = {}): FleetObserved => ({
  name: "web",
  generation: 1,
  spec: spec(),
  status: {},
  revision: REV,
  members,
  views: { "eu-1": healthy(), "us-1": healthy(), "us-2": healthy(), lab: healthy() },
  analysisRuns: {},
  now: T0,
  ...over,
});

const kinds = (actions: FleetAction[]) =>
  actions.filter((a) => a.type !== "event").map((a) => `${a.type}:${"cluster" in a ? a.cluster : a.name}`);
const reasons = (actions: FleetAction[]) => actions.flatMap((a) => (a.type === "event" ? [a.reason] : []));

/** Plans again and again with the status each plan returns, as the shell would. */
function walk(
  steps: { views?: Record<string, MemberView>; now?: Date; analysisRuns?: Record<string, string> }[],
  base = observed(),
) {
  let status: FleetRolloutStatus = base.status;
  return steps.map((s) => {
    const plan = planFleet({ ...base, ...s, status, views: { ...base.views, ...s.views } });
    status = plan.status;
    return plan;
  });
}

describe("resolveWaves", () => {
  it.each([
    ["names and labels; a cluster only in its first wave", spec(), [["eu-1"], ["us-1", "us-2"]]],
    ["a selector nothing matches", spec({ waves: [{ name: "w", selector: { matchLabels: { tier: "none" } } }] }), [[]]],
  ])("%s", (_what, s, expected) => {
    expect(resolveWaves(s, members)).toEqual(expected);
  });
});

describe("planFleet", () => {
  it("a new revision starts wave 1 and updates its cluster only", () => {
    const plan = planFleet(observed());
    expect(kinds(plan.actions)).toEqual(["update:eu-1"]);
    expect(plan.status.phase).toBe("Progressing");
    expect(plan.status.waves?.map((w) => w.phase)).toEqual(["Progressing", "Pending"]);
    expect(plan.status.waves?.[1]?.clusters.map((c) => c.name)).toEqual(["us-1", "us-2"]);
    expect(reasons(plan.actions)).toEqual(["RevisionStarted", "WaveStarted", "ClusterUpdated"]);
    expect(plan.requeueAfterMs).toBe(RESYNC_MS);
  });

  it.each([
    ["still progressing", progressing, "Progressing", []],
    ["Healthy: the soak starts", healthy(REV), "Soaking", []],
    ["Degraded: the fleet stops", degraded, "Degraded", []],
    ["unreachable: the wave holds", unreachable, "Progressing", []],
    ["Healthy on another revision: not counted, its template set again", healthy("r1"), "Progressing", ["update:eu-1"]],
  ])("wave 1's cluster %s", (_what, view, wavePhase, more) => {
    const [, second] = walk([{}, { views: { "eu-1": view }, now: at(1) }]);
    expect(second?.status.waves?.[0]?.phase).toBe(wavePhase);
    expect(kinds(second?.actions ?? [])).toEqual(more);
  });

  it("the soak must pass before wave 2, which starts maxConcurrent clusters at a time", () => {
    const good = { "eu-1": healthy(REV) };
    const plans = walk([
      {},
      { views: good, now: at(1) },
      { views: good, now: at(5) },
      { views: good, now: at(11) },
      { views: { ...good, "us-1": healthy(REV) }, now: at(12) },
      { views: { ...good, "us-1": healthy(REV), "us-2": healthy(REV) }, now: at(13) },
    ]);
    expect(plans.map((p) => kinds(p.actions))).toEqual([["update:eu-1"], [], [], ["update:us-1"], ["update:us-2"], []]);
    expect(plans[1]?.requeueAfterMs).toBe(10_000); // the soak's end, not the resync
    expect(plans[2]?.requeueAfterMs).toBe(6_000);
    expect(plans.map((p) => p.status.phase)).toEqual([
      "Progressing",
      "Progressing",
      "Progressing",
      "Progressing",
      "Progressing",
      "Healthy",
    ]);
    expect(plans[5]?.status.waves?.map((w) => w.phase)).toEqual(["Healthy", "Healthy"]);
    expect(plans[5]?.requeueAfterMs).toBeUndefined();
    expect(reasons(plans[5]?.actions ?? [])).toContain("FleetHealthy");
  });

  it("a cluster that stops being Healthy during the soak restarts it", () => {
    const good = { "eu-1": healthy(REV) };
    const plans = walk([
      {},
      { views: good, now: at(1) },
      { views: { "eu-1": unreachable }, now: at(5) },
      { views: good, now: at(9) },
    ]);
    expect(plans[2]?.status.waves?.[0]).toMatchObject({ phase: "Progressing", message: "held: eu-1 cannot be reached" });
    expect(plans[2]?.status.waves?.[0]?.clusters[0]).toMatchObject({
      reachable: false,
      code: "MEMBER_UNREACHABLE",
      message: "connect ECONNREFUSED",
    });
    expect(reasons(plans[2]?.actions ?? [])).toEqual(["ClusterUnreachable", "WaveHeld"]);
    expect(plans[3]?.status.waves?.[0]).toMatchObject({ phase: "Soaking", healthyAt: at(9).toISOString() });
    expect(plans[3]?.status.waves?.[0]?.clusters[0]).not.toHaveProperty("code");
  });

  it.each([
    ["a member no ClusterProfile or Secret names", undefined, { reachable: false, code: "MEMBER_NOT_FOUND" }],
    [
      "a forbidden member",
      { reachable: false, code: "MEMBER_FORBIDDEN", message: "rollouts is forbidden" } as MemberView,
      { reachable: false, code: "MEMBER_FORBIDDEN", message: "rollouts is forbidden" },
    ],
    [
      "a member without the Rollout (reachable)",
      { reachable: true, missing: true, settled: false } as MemberView,
      { code: "MEMBER_ROLLOUT_NOT_FOUND" },
    ],
  ])("%s is reported with its code", (_what, view, expected) => {
    const views: Record<string, MemberView> = view ? { "eu-1": view } : {};
    const plan = planFleet(observed({ views }));
    expect(plan.status.waves?.[0]?.clusters[0]).toMatchObject(expected);
  });

  it("an unreachable pending cluster is never updated and holds the wave", () => {
    const s = spec({ waves: [{ name: "all", clusters: ["eu-1", "us-1"] }] });
    const plan = planFleet(observed({ spec: s, views: { "eu-1": healthy(), "us-1": unreachable } }));
    expect(kinds(plan.actions)).toEqual(["update:eu-1"]);
    const next = planFleet(observed({ spec: s, status: plan.status, views: { "eu-1": healthy(REV), "us-1": unreachable } }));
    expect(kinds(next.actions)).toEqual([]);
    expect(next.status.phase).toBe("Progressing");
  });

  it.each([
    ["pause", "Degraded", []],
    ["rollback", "RollingBack", ["rollback:eu-1"]],
  ] as const)("a Degraded member with onFailure %s: no further wave, later clusters Skipped", (onFailure, phase, more) => {
    const base = observed({ spec: spec({ onFailure }) });
    const [, second] = walk([{}, { views: { "eu-1": degraded }, now: at(1) }], base);
    expect(second?.status.phase).toBe(phase);
    expect(second?.status.waves?.map((w) => w.phase)).toEqual(["Degraded", "Skipped"]);
    expect(second?.status.waves?.[1]?.clusters.map((c) => c.phase)).toEqual(["Skipped", "Skipped"]);
    expect(kinds(second?.actions ?? [])).toEqual(more);
    expect(second?.status.stopReason).toBe("eu-1 is Degraded: analysis failed");
  });

  it("rollback undoes the waves in reverse order, one wave at a time", () => {
    const s = spec({
      onFailure: "rollback",
      waves: [
        { name: "one", clusters: ["eu-1"] },
        { name: "two", clusters: ["us-1", "us-2"] },
      ],
    });
    const base = observed({ spec: s });
    const done = { "eu-1": healthy(REV) };
    const back = (from: string): MemberView => ({ reachable: true, rolledBackFrom: from, phase: "Healthy", settled: true });
    const plans = walk(
      [
        {},
        { views: done, now: at(1) }, // wave 1 healthy, wave 2 starts
        { views: { ...done, "us-1": degraded, "us-2": progressing }, now: at(2) }, // stop, roll back wave 2
        { views: { ...done, "us-1": back(REV), "us-2": back(REV) }, now: at(3) }, // wave 2 back: wave 1 next
        { views: { "eu-1": back(REV), "us-1": back(REV), "us-2": back(REV) }, now: at(4) },
      ],
      base,
    );
    expect(plans.map((p) => kinds(p.actions))).toEqual([
      ["update:eu-1"],
      ["update:us-1", "update:us-2"],
      ["rollback:us-1", "rollback:us-2"],
      ["rollback:eu-1"],
      [],
    ]);
    expect(plans.map((p) => p.status.phase)).toEqual(["Progressing", "Progressing", "RollingBack", "RollingBack", "RolledBack"]);
    expect(plans[4]?.status.waves?.map((w) => w.phase)).toEqual(["RolledBack", "RolledBack"]);
    expect(plans[4]?.requeueAfterMs).toBeUndefined();
  });

  it("rollback waits for an unreachable member", () => {
    const base = observed({ spec: spec({ onFailure: "rollback" }) });
    const plans = walk([{}, { views: { "eu-1": degraded } }, { views: { "eu-1": unreachable } }], base);
    expect(kinds(plans[2]?.actions ?? [])).toEqual([]);
    expect(plans[2]?.status.phase).toBe("RollingBack");
  });

  it.each([
    ["Successful", "Healthy", ["update:us-1"]],
    ["Failed", "Degraded", []],
    ["Inconclusive", "Degraded", []],
    ["Running", "Analyzing", []],
  ])("the wave's analysis %s", (phase, wavePhase, more) => {
    const s = spec({
      waves: [
        { name: "first", clusters: ["eu-1"], analysis: { templates: [{ templateName: "errors" }] } },
        { name: "rest", clusters: ["us-1"] },
      ],
    });
    const name = analysisRunName("web", REV, 0);
    const plans = walk(
      [{}, { views: { "eu-1": healthy(REV) } }, { views: { "eu-1": healthy(REV) }, analysisRuns: { [name]: phase } }],
      observed({ spec: s }),
    );
    expect(kinds(plans[1]?.actions ?? [])).toEqual([`createAnalysis:${name}`]);
    expect(plans[2]?.status.waves?.[0]?.phase).toBe(wavePhase);
    expect(kinds(plans[2]?.actions ?? [])).toEqual(more);
  });

  it.each([
    ["promote skips the soak", { promote: true }, "Healthy", ["update:us-1"]],
    ["abort stops the fleet", { abort: true }, "Degraded", []],
  ])("%s", (_what, intent, wavePhase, more) => {
    const [first] = walk([{}]);
    const plan = planFleet(
      observed({ status: { ...first?.status, ...intent }, views: { ...observed().views, "eu-1": healthy(REV) }, now: at(1) }),
    );
    expect(plan.status.waves?.[0]?.phase).toBe(wavePhase);
    expect(kinds(plan.actions)).toEqual(more);
    expect(plan.status.promote).toBeUndefined();
  });

  it("a new revision starts again from wave 1 and drops the old intent", () => {
    const [first] = walk([{}]);
    const plan = planFleet(observed({ status: { ...first?.status, phase: "Degraded", abort: true }, revision: "r3" }));
    expect(plan.status).toMatchObject({ phase: "Progressing", revision: "r3", currentWave: 0 });
    expect(plan.status.abort).toBeUndefined();
    expect(kinds(plan.actions)).toEqual(["update:eu-1"]);
  });

  it("a member's long message is cut short", () => {
    const long: MemberView = { ...degraded, message: "x".repeat(5_000) };
    const [, second] = walk([{}, { views: { "eu-1": long } }]);
    expect(second?.status.waves?.[0]?.clusters[0]?.message).toHaveLength(512);
  });

  it("a finished fleet does nothing more", () => {
    const plans = walk([{}, { views: { "eu-1": degraded } }, { views: { "eu-1": degraded }, now: at(60) }]);
    expect(plans[2]?.actions).toEqual([]);
    expect(plans[2]?.requeueAfterMs).toBeUndefined();
  });
});
