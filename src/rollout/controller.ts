// The Rollout controller's shell: informers feed a work queue; each reconcile re-reads the caches,
// asks the pure planner what to do, applies it, and writes the status. All rollout state lives in
// the Rollout's status and its objects' labels and annotations, so a restarted controller carries on.
import { API_VERSION } from "../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import { type RolloutSpec, type RolloutStatus, rolloutSpec } from "../api/rollout.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { Informer, objectKey, withoutBookkeeping } from "../kube/informer.ts";
import type { Log } from "../kube/log.ts";
import { ObjectCaches } from "../kube/object-caches.ts";
import { type ReconcileResult, runWorkers, timedReconcile, WorkQueue } from "../kube/queue.ts";
import type { OutboundDoor } from "../net/outbound.ts";
import {
  type AnalysisRunObject,
  type ControllerRevisionObject,
  controllerOf,
  type DeploymentObject,
  INSTANCE_ID_LABEL,
  type ReplicaSetObject,
  ROLLOUT_LABEL,
  type RolloutObject,
  type ServiceObject,
} from "./objects.ts";
import type { ControllerObserver } from "./observer.ts";
import { planRollout } from "./plan/rollout.ts";
import type { Plan } from "./plan/types.ts";
import { adoptOrphans, adopts } from "./shell/adopt.ts";
import { applyActions } from "./shell/apply.ts";
import {
  BackgroundWrites,
  BY_OWNER,
  type Caches,
  type EventAction,
  ORPHANS_BY_NAMESPACE,
  ownerUid,
  SpecProblem,
  type StepContext,
  serviceNames,
  serviceRoles,
  specOf,
  type Template,
  TrafficProblem,
  templateRefs,
} from "./shell/context.ts";
import { ensureFinalizer, finalize } from "./shell/finalize.ts";
import { startGateCalls } from "./shell/gates.ts";
import { observe } from "./shell/observe.ts";
import { route, routerOf } from "./shell/routing.ts";
import { reportRoutingFailed, reportUnreadable, settle } from "./shell/status.ts";
import { rolloutTransition } from "./transition.ts";

export interface RolloutControllerOptions {
  /** Watch only this namespace (default: all). */
  namespace?: string;
  /** Handle only Rollouts labelled ramp.dev/controller-instance-id=<id>; without one, only unlabelled Rollouts. */
  instanceId?: string;
  workers?: number;
  /** Who this replica is, for the Events it records. */
  identity?: string;
  observer?: ControllerObserver;
  /** Told of a reconcile's events before the status that records them is written, so a crash in
   * between hands them over again (notifications dedupe them by key). `rollout` is as read. */
  notifier?: {
    enqueue(rollout: RolloutObject, status: RolloutStatus, events: EventAction[], now: Date): Promise<void>;
  };
  /** The door every gate call goes through (the controller's outbound policy). */
  outbound: OutboundDoor;
  now?: () => Date;
  log?: Log;
  /** Told of each failed watch, by kind (counted as ramp_watch_failures_total). */
  onWatchFailure?: (kind: string) => void;
  /** Where its Events go (in the background, on a budget of their own); one of its own if none. */
  events?: EventRecorder;
  /** The client revision history is written with (the background budget); the main one if none. */
  historyClient?: KubeClient;
}

const reportsInvalidSpec = (status: RolloutStatus) =>
  status.conditions?.some((c) => c.type === "InvalidSpec" && c.status === "True") === true;

export class RolloutController implements Caches {
  private readonly client: KubeClient;
  private readonly opts: RolloutControllerOptions;
  private readonly queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 60_000 });
  readonly rollouts: Informer<RolloutObject>;
  readonly replicaSets: Informer<ReplicaSetObject>;
  readonly revisions: Informer<ControllerRevisionObject>;
  readonly services: Informer<ServiceObject>;
  readonly analysisRuns: Informer<AnalysisRunObject>;
  readonly deployments: Informer<DeploymentObject>;
  readonly templates: Informer<Template>;
  readonly clusterTemplates: Informer<Template>;
  /** The routers' objects (routes, Ingresses, TrafficSplits), cached once a Rollout routes through them. */
  private readonly routerObjects: ObjectCaches;
  private readonly events: EventRecorder;
  private readonly statusWrittenAt = new Map<string, number>();
  private workers: Promise<void> | undefined;
  private started = false;
  private stopping = false;
  private readonly history = new BackgroundWrites();

  constructor(client: KubeClient, opts: RolloutControllerOptions) {
    this.client = client;
    this.opts = opts;
    const failed = {
      onError: (err: unknown) => opts.log?.(`list/watch failed, retrying: ${(err as Error).message}`, "warn"),
      ...(opts.onWatchFailure ? { onWatchFailure: opts.onWatchFailure } : {}),
    };
    const ns = opts.namespace;
    this.events = opts.events ?? new EventRecorder(client, { log: (line, level) => this.log(line, level) });
    this.routerObjects = new ObjectCaches(client, {
      ...(ns ? { namespace: ns } : {}),
      onChange: (reader, delayMs) => this.queue.addAfter(reader, delayMs),
      ...(opts.onWatchFailure ? { onWatchFailure: opts.onWatchFailure } : {}),
      log: (line, level) => this.log(line, level),
    });
    const enqueueOwner = (obj: ReplicaSetObject | AnalysisRunObject | ControllerRevisionObject) => {
      const owner = controllerOf(obj);
      if (owner?.kind === "Rollout") this.queue.add(`${obj.metadata.namespace}/${owner.name}`);
      else if (!owner && obj.kind === "ReplicaSet")
        this.enqueueWhere(obj.metadata.namespace, (r) => adopts(r, obj as ReplicaSetObject));
    };
    this.rollouts = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: API_VERSION,
      kind: "Rollout",
      namespace: ns,
      labelSelector: opts.instanceId ? `${INSTANCE_ID_LABEL}=${opts.instanceId}` : `!${INSTANCE_ID_LABEL}`,
      onChange: (type, obj) => {
        if (type === "DELETED") {
          this.opts.observer?.rollout(obj.metadata.namespace, obj.metadata.name, undefined);
          this.statusWrittenAt.delete(obj.metadata.uid as string);
          this.routerObjects.forgetReader(objectKey(obj));
        }
        this.queue.add(objectKey(obj));
      },
    });
    this.replicaSets = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      namespace: ns,
      labelSelector: POD_TEMPLATE_HASH_LABEL,
      indexers: {
        [BY_OWNER]: ownerUid,
        [ORPHANS_BY_NAMESPACE]: (o) => (controllerOf(o) ? [] : [o.metadata.namespace]),
      },
      onChange: (_t, obj) => enqueueOwner(obj),
    });
    // The saved pod templates: a deleted one is saved again, a deleted stable ReplicaSet made from one.
    this.revisions = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      namespace: ns,
      labelSelector: ROLLOUT_LABEL,
      indexers: { [BY_OWNER]: ownerUid },
      onChange: (_t, obj) => enqueueOwner(obj),
    });
    this.analysisRuns = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: API_VERSION,
      kind: "AnalysisRun",
      namespace: ns,
      labelSelector: ROLLOUT_LABEL,
      indexers: { [BY_OWNER]: ownerUid },
      onChange: (_t, obj) => enqueueOwner(obj),
    });
    this.services = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: "v1",
      kind: "Service",
      namespace: ns,
      onChange: (_t, svc) =>
        this.enqueueWhere(svc.metadata.namespace, (r) => serviceNames(specOf(r)).includes(svc.metadata.name)),
    });
    this.deployments = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: ns,
      onChange: (_t, dep) => this.enqueueWhere(dep.metadata.namespace, (r) => specOf(r)?.workloadRef?.name === dep.metadata.name),
    });
    const onTemplate = (namespace: string | undefined, name: string) =>
      this.enqueueWhere(namespace, (r) => templateRefs(specOf(r)).some((t) => t.templateName === name));
    this.templates = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: API_VERSION,
      kind: "AnalysisTemplate",
      namespace: ns,
      onChange: (_t, t) => onTemplate(t.metadata.namespace, t.metadata.name),
    });
    this.clusterTemplates = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: API_VERSION,
      kind: "ClusterAnalysisTemplate",
      onChange: (_t, t) => onTemplate(undefined, t.metadata.name),
    });
  }

  private get informers() {
    return [
      this.rollouts,
      this.replicaSets,
      this.revisions,
      this.services,
      this.analysisRuns,
      this.deployments,
      this.templates,
      this.clusterTemplates,
    ] as Informer<KubeObject>[];
  }

  /** Ready once every cache is filled. */
  get synced(): boolean {
    return this.started && this.informers.every((i) => i.hasSynced);
  }

  /** Why a cache cannot be kept current (e.g. a list or watch refused), for readiness. */
  get problems(): string[] {
    return [...this.informers.flatMap((i) => i.problem ?? []), ...this.routerObjects.problems];
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  private get workerCount(): number {
    return this.opts.workers ?? 4;
  }

  /** Fills the caches, then starts the workers; resolves once reconciling has begun. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    // Stopped while the caches filled: nothing is started after stop().
    if (this.stopping) return;
    this.started = true;
    this.log(`caches synced; ${this.rollouts.list().length} rollouts`);
    this.workers = runWorkers(
      this.queue,
      this.workerCount,
      timedReconcile(
        (key) => this.reconcile(key),
        (outcome, seconds) => this.opts.observer?.reconciled(outcome, seconds),
      ),
      (key, err, retryInMs) => this.log(`reconcile ${key} failed (retry in ${retryInMs}ms): ${(err as Error).message}`, "warn"),
    );
  }

  /** Stops taking work, lets the reconciles under way finish, and stops the informers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutDown();
    await this.workers;
    // No reconcile is left to issue one: the revision history under way is finished, not cut off.
    await this.history.settled();
    for (const i of this.informers) i.stop();
    this.routerObjects.stop();
    // One of its own is flushed here; a shared one by whoever made it.
    if (!this.opts.events) await this.events.flush(5_000);
  }

  /** What the steps of a reconcile work with. */
  private get context(): StepContext {
    return {
      client: this.client,
      caches: this,
      ...(this.opts.identity ? { identity: this.opts.identity } : {}),
      ...(this.opts.observer ? { observer: this.opts.observer } : {}),
      ...(this.opts.notifier ? { notifier: this.opts.notifier } : {}),
      outbound: this.opts.outbound,
      events: this.events,
      historyClient: this.opts.historyClient ?? this.client,
      history: this.history,
      routerObjects: (key) => this.routerObjects.readerFor(key),
      statusWrittenAt: this.statusWrittenAt,
      busy: () => this.queue.length > this.workerCount,
      requeue: (key) => this.queue.add(key),
      log: (line, level) => this.log(line, level),
    };
  }

  private log(line: string, level?: Parameters<Log>[1]): void {
    this.opts.log?.(line, level);
  }

  private enqueueWhere(namespace: string | undefined, test: (r: RolloutObject) => boolean): void {
    for (const r of this.rollouts.list()) {
      if ((namespace === undefined || r.metadata.namespace === namespace) && test(r)) this.queue.add(objectKey(r));
    }
  }

  /** One reconcile, as a ladder of named steps (shell/), as the deployment controller's
   * syncDeployment reads: finalize a deleted Rollout, report a spec that does not parse, hold the
   * traffic finalizer, then sync. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const rollout = this.rollouts.get(key);
    if (!rollout) return undefined;
    const ctx = this.context;
    if (rollout.metadata.deletionTimestamp) return finalize(ctx, rollout);
    const now = this.opts.now?.() ?? new Date();
    const parsed = rolloutSpec.safeParse(rollout.spec);
    if (!parsed.success) return reportUnreadable(ctx, rollout, parsed.error.issues[0], now);
    // Carry on with the resourceVersion the patch returned.
    if (await ensureFinalizer(ctx, rollout)) return { requeueAfterMs: 0 };
    try {
      return await this.sync(ctx, rollout, parsed.data, now);
    } catch (err) {
      if (err instanceof TrafficProblem) await reportRoutingFailed(ctx, rollout, err, now);
      throw err;
    }
  }

  /** Observe, plan, adopt, apply, route; then write what it came to (notifications, status, Events)
   * and start the gate calls it decided. A spec problem found while applying is planned again as
   * InvalidSpec. */
  private async sync(ctx: StepContext, rollout: RolloutObject, spec: RolloutSpec, now: Date): Promise<ReconcileResult> {
    const before = (rollout.status ?? {}) as RolloutStatus;
    const router = routerOf(ctx, rollout);
    const { observed, template, trafficFailure } = await observe(ctx, rollout, spec, now, router);
    let plan = planRollout(observed);
    try {
      await adoptOrphans(ctx, rollout, observed);
      await applyActions(ctx, { rollout, observed, template }, plan.actions);
      await route(router, plan.traffic);
    } catch (err) {
      if (!(err instanceof SpecProblem)) throw err;
      plan = planRollout({ ...observed, invalidSpec: err.message, ...(err.refused ? { refusedTemplate: err.refused } : {}) });
    }
    // A router that could not be asked fails the reconcile (reported by reconcile, retried), once the
    // scaling is done; but an invalid spec is what the status must say, as no retry cures it.
    if (trafficFailure && !reportsInvalidSpec(plan.status)) throw trafficFailure;
    if (trafficFailure) ctx.log(`rollout ${objectKey(rollout)}: ${trafficFailure.message}`, "warn");
    const writeLater = await settle(ctx, rollout, before, plan.status, plan.actions, now, true);
    startGateCalls(ctx, rollout, plan);
    this.report(rollout, plan, before, now);
    const requeueAfterMs = Math.min(plan.requeueAfterMs ?? Number.POSITIVE_INFINITY, writeLater ?? Number.POSITIVE_INFINITY);
    return Number.isFinite(requeueAfterMs) ? { requeueAfterMs } : undefined;
  }

  private report(rollout: RolloutObject, plan: Plan, before: RolloutStatus, now: Date): void {
    const spec = specOf(rollout);
    const s = plan.status;
    if (!spec || !s.phase) return;
    const { namespace, name } = rollout.metadata;
    const strategy = spec.strategy.canary ? "canary" : "blueGreen";
    this.opts.observer?.rolloutTransition(namespace, name, strategy, rolloutTransition(before, s, now));
    this.opts.observer?.rollout(namespace, name, {
      phase: s.phase,
      strategy,
      step: spec.strategy.canary ? (s.currentStepIndex ?? 0) : 0,
      canaryWeight: spec.strategy.canary
        ? (s.canary?.weights?.canary.weight ?? 0)
        : s.blueGreen?.activeSelector === s.currentPodHash && s.currentPodHash !== undefined
          ? 100
          : 0,
      desiredReplicas: spec.replicas,
      availableReplicas: s.availableReplicas ?? 0,
      updatedReplicas: s.updatedReplicas ?? 0,
      services: serviceRoles(spec),
    });
  }
}
