// The fleet coordinator's shell: FleetRollouts in the management cluster feed a work queue; each
// reconcile reads the members' Rollouts (their apiservers only), asks the pure planner what to do,
// sets member templates, starts wave analyses, writes the status and records Events. While a fleet is
// under way each member's Rollout is watched, only to reconcile on a change: every reconcile still
// reads the members afresh, so nothing is held in memory that the status lacks.

import { buildRunSpec } from "../analysis/run-spec.ts";
import { analysisTemplateSpec } from "../api/analysis.ts";
import { canonicalJson } from "../api/canonical-json.ts";
import { type FleetRolloutSpec, type FleetRolloutStatus, fleetRolloutSpec } from "../api/fleet.ts";
import { API_VERSION } from "../api/group.ts";
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { Informer, objectKey } from "../kube/informer.ts";
import type { Log } from "../kube/log.ts";
import { type ReconcileOutcome, type ReconcileResult, runWorkers, timedReconcile, WorkQueue } from "../kube/queue.ts";
import type { OutboundDoor } from "../net/outbound.ts";
import type { AnalysisRunObject, Meta } from "../rollout/objects.ts";
import { fleetRevision, type MemberRollout, memberProblem, memberView, rolledBackRollout, updatedRollout } from "./member.ts";
import { type FoundMember, MemberClients } from "./members.ts";
import { type FleetAction, type MemberView, planFleet } from "./plan.ts";

/** On the AnalysisRuns of wave analyses: the FleetRollout they belong to. */
export const FLEET_LABEL = "ramp.dev/fleet";

export type FleetObject = KubeObject & { metadata: Meta; spec: unknown; status?: FleetRolloutStatus };

export interface FleetControllerOptions {
  /** Watch only this namespace (default: all). */
  namespace?: string;
  workers?: number;
  identity?: string;
  /** The door member apiservers are reached through (the controller's outbound policy). */
  outbound: OutboundDoor;
  /** A member that has not answered within this long counts as unreachable. */
  memberTimeoutMs?: number;
  now?: () => Date;
  log?: Log;
  /** Told each reconcile's outcome and duration (ramp_reconcile_total, as for Rollouts). */
  onReconciled?: (outcome: ReconcileOutcome, seconds: number) => void;
  /** The process's Event recorder. */
  events: EventRecorder;
}

const ROLLOUT_API = API_VERSION;

export class FleetController {
  private readonly client: KubeClient;
  private readonly opts: FleetControllerOptions;
  private readonly queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 30_000 });
  private readonly fleets: Informer<FleetObject>;
  private readonly runs: Informer<AnalysisRunObject>;
  private readonly members: MemberClients;
  /** By FleetRollout key, then member name: the watch of that member's Rollout and the client it uses. */
  private readonly memberWatches = new Map<string, Map<string, { client: KubeClient; informer: Informer<MemberRollout> }>>();
  private workers: Promise<void> | undefined;
  private started = false;

  constructor(client: KubeClient, opts: FleetControllerOptions) {
    this.client = client;
    this.opts = opts;
    const onError = (err: unknown) => opts.log?.(`list/watch failed, retrying: ${(err as Error).message}`, "warn");
    this.fleets = new Informer(client, {
      onError,
      apiVersion: API_VERSION,
      kind: "FleetRollout",
      namespace: opts.namespace,
      onChange: (_t, obj) => this.queue.add(objectKey(obj)),
    });
    this.runs = new Informer(client, {
      onError,
      apiVersion: API_VERSION,
      kind: "AnalysisRun",
      namespace: opts.namespace,
      labelSelector: FLEET_LABEL,
      onChange: (_t, run) => this.queue.add(`${run.metadata.namespace}/${run.metadata.labels?.[FLEET_LABEL]}`),
    });
    this.members = new MemberClients({
      door: opts.outbound,
      requestTimeoutMs: opts.memberTimeoutMs ?? 5_000,
      fieldManager: "ramp-fleet",
    });
  }

  get synced(): boolean {
    return this.started && this.fleets.hasSynced && this.runs.hasSynced;
  }

  get problems(): string[] {
    return [this.fleets.problem, this.runs.problem].flatMap((p) => p ?? []);
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    await Promise.all([this.fleets.start(), this.runs.start()]);
    this.started = true;
    this.log(`caches synced; ${this.fleets.list().length} fleet rollouts`);
    this.workers = runWorkers(
      this.queue,
      this.opts.workers ?? 2,
      timedReconcile(
        (key) => this.reconcile(key),
        (outcome, seconds) => this.opts.onReconciled?.(outcome, seconds),
      ),
      (key, err, retryInMs) => this.log(`reconcile ${key} failed (retry in ${retryInMs}ms): ${(err as Error).message}`, "warn"),
    );
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.workers;
    this.fleets.stop();
    this.runs.stop();
    for (const key of [...this.memberWatches.keys()]) this.watchMembers(key, []);
  }

  private log(line: string, level?: Parameters<Log>[1]): void {
    this.opts.log?.(line, level);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const fleet = this.fleets.get(key);
    if (!fleet || fleet.metadata.deletionTimestamp) {
      this.watchMembers(key, []);
      return undefined;
    }
    const now = this.opts.now?.() ?? new Date();
    const before = fleet.status ?? {};
    const parsed = fleetRolloutSpec.safeParse(fleet.spec);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const message = `invalid spec: spec.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
      await this.writeStatus(fleet, before, {
        ...before,
        phase: "Degraded",
        message,
        observedGeneration: fleet.metadata.generation ?? 0,
      });
      this.watchMembers(key, []);
      return undefined;
    }
    const spec = parsed.data;
    const { namespace, name } = fleet.metadata;
    const members = await this.members.list(this.client, namespace);
    const byName = new Map(members.map((m) => [m.name, m]));
    const revision = fleetRevision(spec);
    // The members the waves name (their status's, or those a fresh start would take).
    const names = new Set([
      ...(before.waves ?? []).flatMap((w) => w.clusters.map((c) => c.name)),
      ...spec.waves.flatMap((w) => w.clusters ?? []),
      ...(spec.waves.some((w) => w.selector) ? members.map((m) => m.name) : []),
    ]);
    const reads = await Promise.all([...names].map(async (n) => [n, await this.readMember(byName.get(n), spec)] as const));
    const rollouts = new Map(reads.flatMap(([n, r]) => (r.rollout ? [[n, r.rollout] as const] : [])));
    const views: Record<string, MemberView> = Object.fromEntries(
      reads.flatMap(([n, r]) => (r.view ? [[n, r.view] as const] : [])),
    );
    const analysisRuns = Object.fromEntries(
      this.runs
        .list()
        .filter((r) => r.metadata.namespace === namespace && r.metadata.labels?.[FLEET_LABEL] === name)
        .map((r) => [r.metadata.name, r.status?.phase]),
    );
    const plan = planFleet({
      name,
      generation: fleet.metadata.generation ?? 0,
      spec,
      status: before,
      revision,
      members: members.map(({ name: n, labels }) => ({ name: n, labels })),
      views,
      analysisRuns,
      now,
    });
    // Member writes and analyses first, then the status: a crash in between plans them again, and
    // each is idempotent (a revision already set is set again as it is; a run already made exists).
    for (const action of plan.actions) await this.act(fleet, spec, revision, action, byName, rollouts, plan.status);
    await this.writeStatus(fleet, before, plan.status);
    this.recordEvents(fleet, plan.actions);
    const busy = plan.status.phase === "Progressing" || plan.status.phase === "RollingBack";
    this.watchMembers(key, busy ? [...names].flatMap((n) => byName.get(n) ?? []) : [], spec);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  /** Watches these members' Rollouts for the fleet (and stops every other watch it had): a change,
   * or a failed watch (a member gone silent), reconciles the fleet, whose reads then find out. */
  private watchMembers(key: string, members: FoundMember[], spec?: FleetRolloutSpec): void {
    const had = this.memberWatches.get(key) ?? new Map();
    const next = new Map<string, { client: KubeClient; informer: Informer<MemberRollout> }>();
    for (const m of members) {
      if (!spec || !("get" in m.client)) continue;
      const old = had.get(m.name);
      // A Secret that changed made a new client: its watch replaces the old one.
      if (old?.client === m.client) {
        next.set(m.name, old);
        continue;
      }
      const enqueue = () => this.queue.add(key);
      const informer = new Informer<MemberRollout>(m.client, {
        apiVersion: ROLLOUT_API,
        kind: "Rollout",
        namespace: spec.rolloutRef.namespace,
        fieldSelector: `metadata.name=${spec.rolloutRef.name}`,
        onChange: enqueue,
        onError: enqueue,
        onWatchFailure: enqueue,
        resyncMs: 0, // the fleet's own requeue is the safety net
      });
      // Lists are retried in the background until stop(); the reconcile does not wait on a member.
      void informer.start();
      next.set(m.name, { client: m.client, informer });
    }
    for (const [name, w] of had) if (next.get(name) !== w) w.informer.stop();
    if (next.size) this.memberWatches.set(key, next);
    else this.memberWatches.delete(key);
  }

  /** Member watches open (for tests and metrics). */
  get memberWatchCount(): number {
    return [...this.memberWatches.values()].reduce((sum, m) => sum + m.size, 0);
  }

  /** The member's Rollout as it is now; a member that cannot be read is unreachable, never healthy. */
  private async readMember(
    member: FoundMember | undefined,
    spec: FleetRolloutSpec,
  ): Promise<{ view?: MemberView; rollout?: MemberRollout }> {
    if (!member) return {};
    if (!("get" in member.client)) return { view: { reachable: false, ...member.client } };
    const { namespace, name } = spec.rolloutRef;
    try {
      const rollout = await member.client.get<MemberRollout>(ROLLOUT_API, "Rollout", name, namespace);
      return { view: memberView(rollout), rollout };
    } catch (err) {
      if (isNotFound(err)) return { view: memberView(undefined) };
      return { view: { reachable: false, ...memberProblem(err, `cannot read Rollout ${namespace}/${name}`) } };
    }
  }

  private async act(
    fleet: FleetObject,
    spec: FleetRolloutSpec,
    revision: string,
    action: FleetAction,
    members: Map<string, FoundMember>,
    rollouts: Map<string, MemberRollout>,
    status: FleetRolloutStatus,
  ): Promise<void> {
    if (action.type === "event") return;
    if (action.type === "createAnalysis") return this.createAnalysis(fleet, spec, revision, action.wave, action.name);
    const member = members.get(action.cluster);
    const rollout = rollouts.get(action.cluster);
    if (!member || !("get" in member.client) || !rollout) return; // the planner only acts on reachable members
    const next = action.type === "update" ? updatedRollout(rollout, spec, revision) : rolledBackRollout(rollout, revision);
    try {
      await member.client.replace(next);
      this.log(
        `${fleet.metadata.namespace}/${fleet.metadata.name}: ${action.type} ${action.cluster} (wave ${(status.currentWave ?? 0) + 1})`,
      );
    } catch (err) {
      // A conflict or a member gone away: the next look plans it again.
      if (isConflict(err)) throw new Error(`member ${action.cluster}'s Rollout changed meanwhile; retrying`);
      throw new Error(`member ${action.cluster}: ${action.type} failed: ${(err as Error).message}`);
    }
  }

  private async createAnalysis(fleet: FleetObject, spec: FleetRolloutSpec, revision: string, wave: number, name: string) {
    const { namespace } = fleet.metadata;
    const analysis = spec.waves[wave]?.analysis;
    if (!analysis) return;
    const templates = await Promise.all(
      analysis.templates.map(async (t) => {
        const found = await this.client.get<KubeObject & { spec: unknown }>(
          API_VERSION,
          "AnalysisTemplate",
          t.templateName,
          namespace,
        );
        return { name: t.templateName, kind: "AnalysisTemplate" as const, spec: analysisTemplateSpec.parse(found.spec) };
      }),
    );
    const run: AnalysisRunObject = {
      apiVersion: API_VERSION,
      kind: "AnalysisRun",
      metadata: {
        name,
        namespace,
        labels: { [FLEET_LABEL]: fleet.metadata.name, "ramp.dev/fleet-revision": revision, "ramp.dev/fleet-wave": String(wave) },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: "FleetRollout",
            name: fleet.metadata.name,
            uid: fleet.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: buildRunSpec(templates, analysis.args ?? []),
    };
    await this.client.create(run).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
  }

  private async writeStatus(fleet: FleetObject, before: FleetRolloutStatus, after: FleetRolloutStatus): Promise<void> {
    const clean = JSON.parse(JSON.stringify(after)) as FleetRolloutStatus;
    if (canonicalJson(clean) === canonicalJson(before)) return;
    try {
      this.fleets.remember(await this.client.replace({ ...fleet, status: clean }, { subresource: "status" }));
    } catch (err) {
      if (isConflict(err))
        throw new Error(`status of ${fleet.metadata.namespace}/${fleet.metadata.name} changed meanwhile; retrying`);
      throw err;
    }
  }

  private recordEvents(fleet: FleetObject, actions: FleetAction[]): void {
    const { name, namespace, uid } = fleet.metadata;
    for (const a of actions) {
      if (a.type !== "event") continue;
      this.opts.events.record({
        involved: { apiVersion: API_VERSION, kind: "FleetRollout", name, namespace, uid },
        reason: a.reason,
        message: a.message,
        warning: a.warning,
        instance: this.opts.identity ?? "ramp-fleet-controller",
      });
    }
  }
}
