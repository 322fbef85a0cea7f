// What every step of a reconcile works with: the client, the caches, and the controller's options.
import { type RefusedTemplate, type RolloutSpec, type RolloutStatus, rolloutSpec } from "../../api/rollout.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import type { Log } from "../../kube/log.ts";
import type { ObjectReader } from "../../kube/object-caches.ts";
import type { OutboundDoor } from "../../net/outbound.ts";
import {
  type AnalysisRunObject,
  type ControllerRevisionObject,
  controllerOf,
  type DeploymentObject,
  type Meta,
  type ReplicaSetObject,
  type RolloutObject,
  type ServiceObject,
} from "../objects.ts";
import type { ControllerObserver, RolloutGauge } from "../observer.ts";
import type { Action } from "../plan/types.ts";

export type EventAction = Extract<Action, { type: "event" }>;

export type Template = KubeObject & { metadata: Meta; spec: unknown };

/** Index names the caches keep (see Informer's indexers). */
export const BY_OWNER = "owner";
/** ReplicaSets with no controller, by namespace: the candidates for adoption. */
export const ORPHANS_BY_NAMESPACE = "orphans";

/** The BY_OWNER index function: the uid of the object's controller, if it has one. */
export function ownerUid<T extends { metadata: Meta }>(o: T): string[] {
  const uid = controllerOf(o)?.uid;
  return uid ? [uid] : [];
}

export interface Caches {
  rollouts: Informer<RolloutObject>;
  replicaSets: Informer<ReplicaSetObject>;
  revisions: Informer<ControllerRevisionObject>;
  services: Informer<ServiceObject>;
  analysisRuns: Informer<AnalysisRunObject>;
  deployments: Informer<DeploymentObject>;
  templates: Informer<Template>;
  clusterTemplates: Informer<Template>;
}

export interface StepContext {
  client: KubeClient;
  caches: Caches;
  /** Who this replica is, for the Events it records. */
  identity?: string;
  observer?: ControllerObserver;
  notifier?: {
    enqueue(rollout: RolloutObject, status: RolloutStatus, events: EventAction[], now: Date): Promise<void>;
  };
  /** The door every gate call goes through (the controller's outbound policy). */
  outbound: OutboundDoor;
  /** Revision history's writes: a budget of their own where the process has one. */
  historyClient: KubeClient;
  /** Revision history's writes under way, which no reconcile waits for. */
  history: BackgroundWrites;
  /** Where Events go: written in the background, repeats counted on one Event. */
  events: EventRecorder;
  /** Where the routers of the Rollout with this key read their objects. */
  routerObjects(rolloutKey: string): ObjectReader;
  /** When this process last wrote each Rollout's status, by uid (to pace writes of pod counts). */
  statusWrittenAt: Map<string, number>;
  /** More Rollouts wait in the queue than there are workers (pod counts then wait longer). */
  busy(): boolean;
  /** Looks at a Rollout again soon (a gate's answer came). */
  requeue(key: string): void;
  log: Log;
}

/** Writes made in the background, by the object they write: one at a time per object (a reconcile
 * that plans the same write again while one is under way makes no second), and all of them awaited
 * by settled(), so a controller that stops leaves none half-done. */
export class BackgroundWrites {
  private readonly underWay = new Map<string, Promise<void>>();

  /** Starts `write` (which must not reject: its failure is its own to report) unless one for `key` is under way. */
  issue(key: string, write: () => Promise<void>): void {
    if (this.underWay.has(key)) return;
    this.underWay.set(
      key,
      write().finally(() => this.underWay.delete(key)),
    );
  }

  get size(): number {
    return this.underWay.size;
  }

  /** Resolves once every write under way has finished. */
  async settled(): Promise<void> {
    await Promise.all(this.underWay.values());
  }
}

/** The traffic router failed: recorded in the status (which keeps what was last confirmed), retried. */
export class TrafficProblem extends Error {}

/** A problem with the Rollout's spec found while applying: reported as InvalidSpec, not retried.
 * `refused`: the apiserver refused this revision's ReplicaSet (held in the status until the spec changes). */
export class SpecProblem extends Error {
  readonly refused: RefusedTemplate | undefined;
  constructor(message: string, refused?: RefusedTemplate) {
    super(message);
    this.refused = refused;
  }
}

/** Held by Rollouts that route traffic, so deleting one first sends all traffic back to stable. */
export const TRAFFIC_FINALIZER = "ramp.dev/traffic-routing";

export function finalizersOf(rollout: RolloutObject): string[] {
  return (rollout.metadata.finalizers as string[] | undefined) ?? [];
}

/** The parsed spec, or undefined when it does not parse. */
export function specOf(rollout: RolloutObject): RolloutSpec | undefined {
  // Every Service, Deployment or template event asks this of every cached Rollout: parse each object
  // once (the cache replaces the object on change, so the entry goes with the old one).
  if (!parsedSpecs.has(rollout)) {
    const parsed = rolloutSpec.safeParse(rollout.spec);
    parsedSpecs.set(rollout, parsed.success ? parsed.data : undefined);
  }
  return parsedSpecs.get(rollout);
}

const parsedSpecs = new WeakMap<RolloutObject, RolloutSpec | undefined>();

/** The Services the strategy names, by role. */
export function serviceRoles(spec: RolloutSpec | undefined): RolloutGauge["services"] {
  const c = spec?.strategy.canary;
  const b = spec?.strategy.blueGreen;
  const roles = [
    { role: "stable", service: c?.stableService },
    { role: "canary", service: c?.canaryService },
    { role: "active", service: b?.activeService },
    { role: "preview", service: b?.previewService },
  ] as const;
  return roles.flatMap(({ role, service }) => (service ? [{ role, service }] : []));
}

export function serviceNames(spec: RolloutSpec | undefined): string[] {
  return serviceRoles(spec).map((s) => s.service);
}

export function templateRefs(spec: RolloutSpec | undefined): { templateName: string; clusterScope?: boolean }[] {
  const c = spec?.strategy.canary;
  const b = spec?.strategy.blueGreen;
  const analyses = [c?.analysis, ...(c?.steps ?? []).map((s) => s.analysis), b?.prePromotionAnalysis, b?.postPromotionAnalysis];
  return analyses.flatMap((a) => a?.templates ?? []);
}
