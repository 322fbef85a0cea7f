// Leader election on the real apiserver: one leader at a time, hand-over on release(), take-over
// once an abandoned Lease expires, and contenders that race on one Lease version.
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { LeaderElector, type Lease } from "../src/kube/lease.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";

const TIMING = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 300 };

interface Contender {
  identity: string;
  elector: LeaderElector;
  stop: AbortController;
  run: Promise<void>;
  events: string[];
  logs: string[];
  startedAt?: number;
}

let contenders: Contender[] = [];
let overlaps: string[] = [];
let sampler: ReturnType<typeof setInterval> | undefined;

/** Starts an elector; every 10ms a sampler checks that no two contenders lead at once. */
function contend(ns: string, name: string, identity: string, client: KubeClient = kube()): Contender {
  const stop = new AbortController();
  const elector = new LeaderElector(client, { namespace: ns, name, identity, ...TIMING, log: (m) => c.logs.push(m) });
  const c: Contender = { identity, elector, stop, events: [], logs: [], run: Promise.resolve() };
  c.run = elector.run(
    {
      onStartedLeading: () => {
        c.startedAt = Date.now();
        c.events.push("started");
      },
      onStoppedLeading: () => c.events.push("stopped"),
      onNewLeader: (id) => c.events.push(`leader ${id}`),
    },
    stop.signal,
  );
  contenders.push(c);
  sampler ??= setInterval(() => {
    const leading = contenders.filter((x) => x.elector.isLeader).map((x) => x.identity);
    if (leading.length > 1) overlaps.push(`${new Date().toISOString()} ${leading.join(" + ")}`);
  }, 10);
  return c;
}

const readLease = (ns: string, name: string) => kube().get<Lease>("coordination.k8s.io/v1", "Lease", name, ns);

/** The one leader, once exactly one contender leads. */
const soleLeader = (...cs: Contender[]) =>
  eventually("exactly one leader", async () => {
    const leading = cs.filter((c) => c.elector.isLeader);
    return leading.length === 1 ? leading[0] : undefined;
  });

afterEach(async () => {
  for (const c of contenders) c.stop.abort();
  await Promise.all(contenders.map((c) => c.run));
  clearInterval(sampler);
  sampler = undefined;
  const seen = overlaps;
  contenders = [];
  overlaps = [];
  expect(seen, "moments at which two contenders led").toEqual([]);
});

describe("LeaderElector on the apiserver", () => {
  it("lets exactly one of two lead, and release() hands the Lease to the other at once", async () => {
    const ns = await namespace("lease");
    const a = contend(ns, "lock", "a");
    const b = contend(ns, "lock", "b");
    const leader = await soleLeader(a, b);
    const standby = leader === a ? b : a;
    // Beyond a lease duration: the leader keeps renewing, the standby keeps waiting.
    await new Promise((r) => setTimeout(r, TIMING.leaseDurationMs + 500));
    expect([leader.elector.isLeader, standby.elector.isLeader]).toEqual([true, false]);
    const held = await readLease(ns, "lock");
    expect(held.spec).toMatchObject({ holderIdentity: leader.identity, leaseDurationSeconds: 2, leaseTransitions: 0 });
    expect(held.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(standby.events).toEqual([`leader ${leader.identity}`]);

    const releasedAt = Date.now();
    await leader.elector.release();
    await leader.run;
    expect(leader.elector.isLeader).toBe(false);
    expect(leader.events).toEqual([`leader ${leader.identity}`, "started", "stopped"]);
    await eventually("the standby to lead", async () => standby.elector.isLeader);
    // Within a retry period or so, not after a lease duration.
    expect((standby.startedAt ?? 0) - releasedAt).toBeLessThan(TIMING.leaseDurationMs - 500);
    expect((await readLease(ns, "lock")).spec).toMatchObject({ holderIdentity: standby.identity, leaseTransitions: 1 });
    expect(standby.events).toEqual([`leader ${leader.identity}`, `leader ${standby.identity}`, "started"]);
  });

  it("after the leader's run is aborted without release(), the other takes over once the Lease expires", async () => {
    const ns = await namespace("lease");
    const a = contend(ns, "lock", "a");
    const b = contend(ns, "lock", "b");
    const leader = await soleLeader(a, b);
    const standby = leader === a ? b : a;
    leader.stop.abort();
    await leader.run;
    const abortedAt = Date.now();
    expect(leader.elector.isLeader).toBe(false);
    expect(leader.events.at(-1)).toBe("stopped");
    // The abandoned Lease still names the old leader until it expires.
    expect((await readLease(ns, "lock")).spec?.holderIdentity).toBe(leader.identity);
    await eventually("the standby to lead", async () => standby.elector.isLeader);
    const waited = (standby.startedAt ?? 0) - abortedAt;
    // The last renewal was at most a retry period before the abort: the Lease ran at least
    // leaseDuration - retryPeriod past it (less a little for request latency).
    expect(waited).toBeGreaterThan(TIMING.leaseDurationMs - TIMING.retryPeriodMs - 200);
    expect(waited).toBeLessThan(TIMING.leaseDurationMs + 3 * TIMING.retryPeriodMs + 1_000);
    expect((await readLease(ns, "lock")).spec).toMatchObject({ holderIdentity: standby.identity, leaseTransitions: 1 });
  });

  it.each([
    { case: "no Lease yet (both create)", existing: undefined },
    { case: "a released Lease (both replace)", existing: { holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 4 } },
  ])("of contenders that read the same version of $case, one wins and the other sees a conflict", async ({ existing }) => {
    const ns = await namespace("lease");
    if (existing) {
      await kube().create({
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "lock", namespace: ns },
        spec: existing,
      });
    }
    // Both first reads return together, so both write on the same resourceVersion.
    const lockstep = new Lockstep(2);
    const a = contend(ns, "lock", "a", new LockstepClient(lockstep));
    const b = contend(ns, "lock", "b", new LockstepClient(lockstep));
    const leader = await soleLeader(a, b);
    const loser = leader === a ? b : a;
    expect(loser.logs).toContain(`Lease ${ns}/lock: another replica wrote it first`);
    await new Promise((r) => setTimeout(r, TIMING.leaseDurationMs + 500));
    expect([leader.elector.isLeader, loser.elector.isLeader]).toEqual([true, false]);
    expect((await readLease(ns, "lock")).spec).toMatchObject({
      holderIdentity: leader.identity,
      leaseTransitions: existing ? 5 : 0,
    });
  });
});

/** Holds the first `parties` reads until all of them have arrived. */
class Lockstep {
  private arrived = 0;
  private readonly parties: number;
  private open: () => void = () => {};
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));

  constructor(parties: number) {
    this.parties = parties;
  }

  async arrive(): Promise<void> {
    if (this.arrived >= this.parties) return;
    if (++this.arrived === this.parties) this.open();
    await this.opened;
  }
}

class LockstepClient extends KubeClient {
  private readonly lockstep: Lockstep;

  constructor(lockstep: Lockstep) {
    super({ kubeconfig: cluster().kubeconfig, fieldManager: "ramp-test" });
    this.lockstep = lockstep;
  }

  override async get<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T> {
    const found = super.get<T>(apiVersion, kind, name, namespace);
    // A missing Lease is a read too: wait for the other contender either way.
    await found.then(
      () => this.lockstep.arrive(),
      () => this.lockstep.arrive(),
    );
    return found;
  }
}
