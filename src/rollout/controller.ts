// The Rollout controller's shell: informers feed a work queue; each reconcile re-reads the caches,
// asks the pure planner what to do, applies it, and writes the status. All rollout state lives in
// the Rollout's status and its objects' labels and annotations, so a restarted controller carries on.
import { type AnalysisTemplate, analysisTemplateSpec } from "../api/analysis.ts";
import { canonicalJson } from "../api/canonical-json.ts";
import { API_VERSION } from "../api/group.ts";
import { baselineHash, POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import { type GateState, podTemplate, type RolloutStatus, rolloutSpec } from "../api/rollout.ts";
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import { eventObject } from "../kube/events.ts";
import { Informer, objectKey, withoutBookkeeping } from "../kube/informer.ts";
import type { Log } from "../kube/log.ts";
import { type ReconcileResult, runWorkers, timedReconcile, WorkQueue } from "../kube/queue.ts";
import { DestinationNotAllowed, type OutboundDoor } from "../net/outbound.ts";
import { routerFor } from "../traffic/registry.ts";
import { RouterError } from "../traffic/router.ts";
import { analysisRunFor, type FoundTemplate } from "./analysis-runs.ts";
import {
  type AnalysisRunObject,
  baselineReplicaSetFor,
  type ControllerRevisionObject,
  controllerOf,
  type DeploymentObject,
  INSTANCE_ID_LABEL,
  type PodTemplate,
  type ReplicaSetObject,
  ROLLOUT_LABEL,
  type RolloutObject,
  replicaSetFor,
  revisionFor,
  SCALE_DOWN_AT_ANNOTATION,
  type ServiceObject,
  templateToSave,
} from "./objects.ts";
import type { ControllerObserver } from "./observer.ts";
import { invalidSpecStatus, planRollout, trafficErrorStatus } from "./plan/rollout.ts";
import type { Action, Observed, Plan, RolloutAnalysis } from "./plan/types.ts";
import { adoptOrphans, adopts } from "./shell/adopt.ts";
import {
  BY_OWNER,
  type Caches,
  type EventAction,
  finalizersOf,
  ORPHANS_BY_NAMESPACE,
  ownerUid,
  SpecProblem,
  type StepContext,
  serviceNames,
  serviceRoles,
  specOf,
  type Template,
  TRAFFIC_FINALIZER,
  TrafficProblem,
  templateRefs,
} from "./shell/context.ts";
import { findTemplate, observe } from "./shell/observe.ts";
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
}

type GateCall = Extract<Action, { type: "callGate" }>;

/** How soon to look again at a route its Gateway has not accepted yet. */
const VERIFY_RETRY_MS = 5_000;

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
  private workers: Promise<void> | undefined;
  private started = false;

  constructor(client: KubeClient, opts: RolloutControllerOptions) {
    this.client = client;
    this.opts = opts;
    const failed = {
      onError: (err: unknown) => opts.log?.(`list/watch failed, retrying: ${(err as Error).message}`, "warn"),
      ...(opts.onWatchFailure ? { onWatchFailure: opts.onWatchFailure } : {}),
    };
    const ns = opts.namespace;
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
        if (type === "DELETED") this.opts.observer?.rollout(obj.metadata.namespace, obj.metadata.name, undefined);
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
    return this.informers.flatMap((i) => i.problem ?? []);
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Fills the caches, then starts the workers; resolves once reconciling has begun. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    this.started = true;
    this.log(`caches synced; ${this.rollouts.list().length} rollouts`);
    this.workers = runWorkers(
      this.queue,
      this.opts.workers ?? 4,
      timedReconcile(
        (key) => this.reconcile(key),
        (outcome, seconds) => this.opts.observer?.reconciled(outcome, seconds),
      ),
      (key, err, retryInMs) => this.log(`reconcile ${key} failed (retry in ${retryInMs}ms): ${(err as Error).message}`, "warn"),
    );
  }

  /** Stops taking work, lets the reconciles under way finish, and stops the informers. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.workers;
    for (const i of this.informers) i.stop();
  }

  /** What the steps of a reconcile work with. */
  private get context(): StepContext {
    return {
      client: this.client,
      caches: this,
      ...(this.opts.identity ? { identity: this.opts.identity } : {}),
      ...(this.opts.observer ? { observer: this.opts.observer } : {}),
      ...(this.opts.notifier ? { notifier: this.opts.notifier } : {}),
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

  async reconcile(key: string): Promise<ReconcileResult> {
    const rollout = this.rollouts.get(key);
    if (!rollout) return undefined;
    if (rollout.metadata.deletionTimestamp) return this.finalize(rollout);
    const now = this.opts.now?.() ?? new Date();
    const parsed = rolloutSpec.safeParse(rollout.spec);
    if (!parsed.success) {
      // A spec the planner cannot read (the CRD's schema let it through): report it, touch nothing.
      const issue = parsed.error.issues[0];
      const problem = `spec.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
      const before = (rollout.status ?? {}) as RolloutStatus;
      const { status, events } = invalidSpecStatus(before, problem, now, rollout.metadata.generation ?? 0);
      const actions = events.map((e) => ({ type: "event", ...e, warning: true }) as const);
      await this.notify(rollout, status, actions, now);
      await this.writeStatus(rollout, before, status);
      await this.recordEvents(rollout, actions);
      return undefined;
    }
    if (parsed.data.strategy.canary?.trafficRouting && !finalizersOf(rollout).includes(TRAFFIC_FINALIZER)) {
      const updated = await this.setFinalizers(rollout, [...finalizersOf(rollout), TRAFFIC_FINALIZER]);
      if (updated) this.rollouts.remember(updated);
      return { requeueAfterMs: 0 }; // carry on with the resourceVersion the patch returned
    }
    const { observed, template } = await observe(this.context, rollout, parsed.data, now);
    let plan = planRollout(observed);
    try {
      await this.apply(rollout, observed, plan, template);
    } catch (err) {
      if (err instanceof TrafficProblem) return this.routingFailed(rollout, observed.status, err, now);
      if (!(err instanceof SpecProblem)) throw err;
      plan = planRollout({ ...observed, invalidSpec: err.message });
    }
    await this.notify(rollout, plan.status, plan.actions, now);
    await this.writeStatus(rollout, observed.status, plan.status);
    this.startGateCalls(rollout, plan);
    await this.recordEvents(rollout, plan.actions);
    this.report(rollout, plan, observed.status, now);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  /** Writes the router's failure into the last status (Progressing False) and fails the reconcile,
   * so the queue retries it with backoff; the planned step is not recorded as done. */
  private async routingFailed(rollout: RolloutObject, before: RolloutStatus, problem: TrafficProblem, now: Date): Promise<never> {
    const { status, events } = trafficErrorStatus(before, problem.message, now);
    await this.writeStatus(rollout, before, status);
    await this.recordEvents(
      rollout,
      events.map((e) => ({ type: "event", ...e, warning: true }) as const),
    );
    throw problem;
  }

  private async apply(rollout: RolloutObject, observed: Observed, plan: Plan, template: PodTemplate | undefined): Promise<void> {
    const { namespace, name } = rollout.metadata;
    const spec = observed.spec;
    await adoptOrphans(this.context, rollout, observed);
    for (const action of plan.actions) {
      switch (action.type) {
        case "createReplicaSet": {
          const source = action.fromRevision ? this.savedTemplate(namespace, action.fromRevision) : template;
          if (!source) break;
          const rs = replicaSetFor(
            rollout,
            source,
            spec.selector,
            action.hash,
            action.revision,
            action.replicas,
            spec.minReadySeconds,
          );
          await this.createReplicaSet(rs);
          break;
        }
        case "createBaselineReplicaSet": {
          // The stable revision's template, from its ReplicaSet or else its saved copy.
          const source =
            this.ownedReplicaSet(rollout, action.fromHash)?.spec.template ??
            this.savedTemplate(namespace, `${name}-${action.fromHash}`);
          if (!source) break;
          await this.createReplicaSet(
            baselineReplicaSetFor(rollout, source, spec.selector, action.hash, action.replicas, spec.minReadySeconds),
          );
          break;
        }
        case "scaleReplicaSet":
          this.replicaSets.remember(
            await this.client.patch("apps/v1", "ReplicaSet", action.name, namespace, { spec: { replicas: action.replicas } }),
          );
          break;
        case "setScaleDownAt":
          this.replicaSets.remember(
            await this.client.patch("apps/v1", "ReplicaSet", action.name, namespace, {
              metadata: { annotations: { [SCALE_DOWN_AT_ANNOTATION]: action.at } },
            }),
          );
          break;
        case "deleteReplicaSet":
          await this.client.delete("apps/v1", "ReplicaSet", action.name, namespace);
          break;
        case "saveRevision":
          await this.keepHistory(rollout, `save the template of revision ${action.hash}`, async () => {
            const source =
              action.hash === observed.templateHash ? template : this.ownedReplicaSet(rollout, action.hash)?.spec.template;
            if (!source) return;
            const saved = revisionFor(rollout, templateToSave(source), action.hash, action.revision);
            try {
              this.revisions.remember(await this.client.create(saved));
            } catch (err) {
              if (!isAlreadyExists(err)) throw err;
            }
          });
          break;
        case "deleteRevision":
          await this.keepHistory(rollout, `delete the old ControllerRevision ${action.name}`, () =>
            this.client.delete("apps/v1", "ControllerRevision", action.name, namespace),
          );
          break;
        case "setServiceSelector":
          try {
            this.services.remember(
              await this.client.patch("v1", "Service", action.service, namespace, {
                spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: action.hash } },
              }),
            );
          } catch (err) {
            if (isNotFound(err)) throw new SpecProblem(`Service "${action.service}" not found`);
            throw err;
          }
          break;
        case "createAnalysisRun":
          await this.createAnalysisRun(rollout, observed, action);
          break;
        case "terminateAnalysisRun":
          this.analysisRuns.remember(
            await this.client.patch(API_VERSION, "AnalysisRun", action.name, namespace, { spec: { terminate: true } }),
          );
          break;
        case "scaleDeployment":
          if (spec.workloadRef) {
            this.deployments.remember(
              await this.client.patch("apps/v1", "Deployment", spec.workloadRef.name, namespace, {
                spec: { replicas: action.replicas },
              }),
            );
          }
          break;
        case "deletePod":
          await this.client.delete("v1", "Pod", action.name, namespace);
          break;
        case "callGate":
          break; // made once the status that marks it Pending is written (startGateCalls)
        case "event":
          break; // recorded once the status is written
      }
    }
    if (plan.traffic && spec.strategy.canary) {
      const router = routerFor({
        client: this.client,
        rollout: { name, namespace, uid: rollout.metadata.uid ?? "" },
        canary: spec.strategy.canary,
      });
      if (router) {
        const t = plan.traffic;
        try {
          await router.setWeight(t);
          await router.setHeaderRoutes(t.headerRoutes, t);
          await router.setMirrorRoutes(t.mirrorRoutes, t);
          if (!t.headerRoutes.length && !t.mirrorRoutes.length) await router.removeManagedRoutes();
        } catch (err) {
          // A step this router cannot express, or a route in a namespace that grants nothing, never
          // works on a retry: say so in the spec's condition.
          if (err instanceof RouterError && (err.code === "UNSUPPORTED" || err.code === "NOT_GRANTED"))
            throw new SpecProblem(err.message);
          throw new TrafficProblem((err as Error).message);
        }
        const verified = await router.verify(t).catch((err: unknown) => {
          throw new TrafficProblem((err as Error).message);
        });
        const weights = plan.status.canary?.weights;
        if (weights) weights.verified = verified;
        if (weights && verified === undefined) delete weights.verified;
        // Nothing else wakes us when a Gateway gets round to accepting the change.
        if (verified === false) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? VERIFY_RETRY_MS, VERIFY_RETRY_MS);
      }
    }
  }

  /** Creates a ReplicaSet (one made already is fine); one the apiserver refuses is a spec problem. */
  private async createReplicaSet(rs: ReplicaSetObject): Promise<void> {
    try {
      this.replicaSets.remember(await this.client.create(rs));
    } catch (err) {
      if (isAlreadyExists(err)) return;
      if (err instanceof KubeError && (err.status === 422 || err.status === 400)) {
        throw new SpecProblem(`ReplicaSet "${rs.metadata.name}" is invalid: ${err.message}`);
      }
      throw err;
    }
  }

  /** The template a ControllerRevision of the Rollout holds, when it is still a pod template. */
  private savedTemplate(namespace: string, name: string): PodTemplate | undefined {
    const parsed = podTemplate.safeParse(this.revisions.get(`${namespace}/${name}`)?.data);
    return parsed.success ? (parsed.data as PodTemplate) : undefined;
  }

  private ownedReplicaSet(rollout: RolloutObject, hash: string): ReplicaSetObject | undefined {
    return this.replicaSets
      .byIndex(BY_OWNER, rollout.metadata.uid ?? "")
      .find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
  }

  /** Revision history is a safety net, never a reason to hold a rollout up: a write of it that fails
   * is logged and recorded as a Warning Event, and tried again on the next reconcile. */
  private async keepHistory(rollout: RolloutObject, what: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      const message = `could not ${what}: ${(err as Error).message}`;
      this.log(`rollout ${objectKey(rollout)}: ${message}`);
      await this.recordEvents(rollout, [{ type: "event", reason: "RevisionHistoryFailed", message, warning: true }]);
    }
  }

  /** A deleted Rollout leaves its router's objects sending all traffic to what is running, without
   * Ramp's header and mirror routes, before its finalizer lets it go. */
  private async finalize(rollout: RolloutObject): Promise<ReconcileResult> {
    const finalizers = finalizersOf(rollout);
    if (!finalizers.includes(TRAFFIC_FINALIZER)) return undefined;
    const { namespace, name } = rollout.metadata;
    const status = (rollout.status ?? {}) as RolloutStatus;
    const stable = status.stableRS ?? status.currentPodHash ?? "";
    const canary = specOf(rollout)?.strategy.canary;
    const uid = rollout.metadata.uid ?? "";
    const router = canary && stable ? routerFor({ client: this.client, rollout: { name, namespace, uid }, canary }) : undefined;
    if (router) {
      try {
        await router.setWeight({ weight: 0, canaryHash: stable, stableHash: stable, headerRoutes: [], mirrorRoutes: [] });
        await router.removeManagedRoutes();
      } catch (err) {
        // With the route object (or its kind) gone, or never granted, there is nothing of ours to
        // restore; anything else is retried.
        if (!(err instanceof RouterError && ["NOT_FOUND", "NOT_SERVED", "NOT_GRANTED"].includes(err.code))) throw err;
        this.log(`rollout ${namespace}/${name} deleted; its routes are gone: ${err.message}`, "warn");
      }
    }
    // Not remembered: with its last finalizer gone the Rollout goes, and the watch says so.
    await this.setFinalizers(
      rollout,
      finalizers.filter((f) => f !== TRAFFIC_FINALIZER),
    );
    return undefined;
  }

  /** A merge patch replaces the whole list, so it is guarded by the resourceVersion read: a conflict
   * (someone else's finalizer changed meanwhile) fails the reconcile, which runs again on fresh data. */
  private async setFinalizers(rollout: RolloutObject, finalizers: string[]): Promise<RolloutObject | undefined> {
    const { namespace, name, resourceVersion } = rollout.metadata;
    try {
      return await this.client.patch(API_VERSION, "Rollout", name, namespace, { metadata: { finalizers, resourceVersion } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return undefined;
    }
  }

  /** Makes the gate calls a reconcile decided, in the background: a receiver that hangs never holds
   * a worker. Started only once the status marking them Pending is written, so a fast answer always
   * finds its call recorded. */
  private startGateCalls(rollout: RolloutObject, plan: Plan): void {
    const revision = plan.status.currentPodHash ?? "";
    for (const a of plan.actions) {
      if (a.type !== "callGate") continue;
      this.callGate(rollout, revision, a).catch((err: unknown) =>
        this.log(`gate ${a.name} of ${objectKey(rollout)}: recording the result failed: ${(err as Error).message}`, "warn"),
      );
    }
  }

  /** POSTs to the gate's URL and writes the outcome into the status's currentGate, then looks again. */
  private async callGate(rollout: RolloutObject, revision: string, call: GateCall): Promise<void> {
    const { namespace, name, uid } = rollout.metadata;
    const body = JSON.stringify({
      rollout: name,
      namespace,
      uid,
      revision,
      step: call.stepIndex,
      gate: call.name,
      attempt: call.attempt,
    });
    let result: Partial<GateState>;
    try {
      const res = await this.opts.outbound.post(call.url, {
        body,
        headers: { "content-type": "application/json", "user-agent": "ramp-controller" },
        timeoutMs: call.timeoutMs,
      });
      result = {
        phase: res.status >= 200 && res.status < 300 ? "Passed" : "Failed",
        message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`,
      };
    } catch (err) {
      const e = err as Error & { cause?: Error };
      if (err instanceof DestinationNotAllowed) {
        // Not retried: the policy will say the same next time.
        result = { phase: "Error", code: err.code, message: err.message };
        const reason = "DestinationNotAllowed";
        await this.recordEvents(rollout, [
          { type: "event", reason, message: `gate ${call.name}: ${err.message}`, warning: true },
        ]);
      } else {
        result = {
          phase: "Failed",
          message:
            e.name === "TimeoutError" ? `no answer within ${call.timeoutMs}ms` : `call failed: ${e.cause?.message ?? e.message}`,
        };
      }
    }
    const message = result.message;
    // The URL stays out of the log: it may carry a token.
    this.log(
      `gate ${call.name} of ${namespace}/${name} call ${call.attempt}: ${message}`,
      result.phase === "Passed" ? "info" : "warn",
    );
    await this.recordGate(objectKey(rollout), revision, call, { ...result, attempts: call.attempt });
    this.queue.add(objectKey(rollout));
  }

  /** A merge patch of the status guarded by the resourceVersion read; on a conflict, read again. A
   * result no longer awaited (a newer call, another revision) is dropped. */
  private async recordGate(key: string, revision: string, call: GateCall, result: Partial<GateState>): Promise<void> {
    let current = this.rollouts.get(key);
    for (let tries = 0; tries < 5 && current; tries++) {
      const status = (current.status ?? {}) as RolloutStatus;
      // A canary's gate steps, or a blue-green's pre-promotion gate.
      const side = status.blueGreen?.currentGate ? "blueGreen" : "canary";
      const gate = status[side]?.currentGate;
      const awaited =
        status.currentPodHash === revision &&
        gate?.phase === "Pending" &&
        gate.name === call.name &&
        gate.stepIndex === call.stepIndex &&
        gate.attempts === call.attempt;
      if (!awaited) return;
      const { namespace, name, resourceVersion } = current.metadata;
      try {
        const patch = { metadata: { resourceVersion }, status: { [side]: { currentGate: result } } };
        this.rollouts.remember(
          await this.client.patch(API_VERSION, "Rollout", name, namespace, patch, { subresource: "status" }),
        );
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        current = await this.client.get<RolloutObject>(API_VERSION, "Rollout", name, namespace);
      }
    }
  }

  private async createAnalysisRun(
    rollout: RolloutObject,
    observed: Observed,
    action: Extract<Action, { type: "createAnalysisRun" }>,
  ): Promise<void> {
    const templates: FoundTemplate[] = [];
    for (const ref of action.analysis.templates) {
      const found = await findTemplate(this.context, rollout.metadata.namespace, ref.templateName, ref.clusterScope);
      const kind = ref.clusterScope ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
      if (!found) throw new SpecProblem(`${kind} "${ref.templateName}" not found`);
      const spec = analysisTemplateSpec.safeParse(found.spec);
      if (!spec.success) throw new SpecProblem(`${kind} "${ref.templateName}" is invalid: ${spec.error.issues[0]?.message}`);
      templates.push({ name: ref.templateName, kind, spec: spec.data as AnalysisTemplate["spec"] });
    }
    let run: AnalysisRunObject;
    try {
      run = analysisRunFor({
        name: action.name,
        rollout,
        role: action.role,
        hash: action.hash,
        ...(action.stepIndex !== undefined ? { stepIndex: action.stepIndex } : {}),
        analysis: action.analysis as RolloutAnalysis,
        templates,
        hashes: {
          stable: observed.status.stableRS ?? observed.templateHash,
          latest: observed.templateHash,
          ...(observed.spec.strategy.canary?.baseline?.enabled ? { baseline: baselineHash(observed.templateHash) } : {}),
        },
      });
    } catch (err) {
      throw new SpecProblem((err as Error).message);
    }
    try {
      this.analysisRuns.remember(await this.client.create(run));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** Writes the status when it changed, guarded by the resourceVersion read: a concurrent write
   * (a CLI command, another replica) makes this reconcile fail and run again on fresh data. */
  private async writeStatus(rollout: RolloutObject, before: RolloutStatus, after: RolloutStatus): Promise<void> {
    const clean = JSON.parse(JSON.stringify(after)) as RolloutStatus;
    if (canonicalJson(clean) === canonicalJson(before)) return;
    try {
      this.rollouts.remember(await this.client.replace({ ...rollout, status: clean }, { subresource: "status" }));
    } catch (err) {
      if (isConflict(err))
        throw new Error(`status of rollout ${rollout.metadata.namespace}/${rollout.metadata.name} changed meanwhile; retrying`);
      throw err;
    }
  }

  private async notify(rollout: RolloutObject, status: RolloutStatus, actions: Action[], now: Date): Promise<void> {
    const events = actions.filter((a): a is EventAction => a.type === "event");
    if (events.length && this.opts.notifier) await this.opts.notifier.enqueue(rollout, status, events, now);
  }

  private async recordEvents(rollout: RolloutObject, actions: Action[]): Promise<void> {
    const { name, namespace, uid } = rollout.metadata;
    const reasons = actions.flatMap((a) => (a.type === "event" ? [a.reason] : []));
    if (reasons.length) this.opts.observer?.rolloutEvents(namespace, name, reasons);
    for (const a of actions) {
      if (a.type !== "event") continue;
      const event = eventObject({
        involved: { apiVersion: API_VERSION, kind: "Rollout", name, namespace, uid },
        reason: a.reason,
        message: a.message,
        warning: a.warning,
        instance: this.opts.identity ?? "ramp-controller",
      });
      await this.client
        .create(event)
        .catch((err: unknown) => this.log(`event ${a.reason} for ${name}: ${(err as Error).message}`, "warn"));
    }
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
