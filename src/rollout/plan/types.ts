// What a planner sees and what it decides. Planners are pure: observed state + now in, actions,
// the new status and when to look again out.
import type { AnalysisPhase } from "../../api/analysis.ts";
import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import type { EventReason } from "../../api/reasons.ts";
import type { CanaryStep, RefusedTemplate, RolloutSpec, RolloutStatus } from "../../api/rollout.ts";

export interface ObservedReplicaSet {
  name: string;
  /** Value of the ramp.dev/pod-template-hash label. */
  hash: string;
  revision: number;
  /** .spec.replicas */
  replicas: number;
  /** .status.replicas, readyReplicas, availableReplicas */
  current: number;
  ready: number;
  available: number;
  /** RFC 3339 time after which an old ReplicaSet's remaining pods go (annotation). */
  scaleDownAt?: string;
}

/** A ControllerRevision of the Rollout: one revision's pod template, kept so that its ReplicaSet can
 * be made again when deleted (the spec holds only the newest template). */
export interface ObservedRevision {
  name: string;
  /** Value of the ramp.dev/pod-template-hash label. */
  hash: string;
  revision: number;
  /** Why its template cannot be used, when it cannot (its data is not a pod template the selector matches). */
  problem?: string;
}

/** Which of a Rollout's analyses an AnalysisRun is. */
export type AnalysisRole = "step" | "background" | "prePromotion" | "postPromotion";

export interface ObservedAnalysisRun {
  name: string;
  role: AnalysisRole;
  /** The pod-template hash it measures. */
  hash: string;
  /** For step runs: the index of the analysis step. */
  stepIndex?: number;
  /** undefined until the analysis controller first reports. */
  phase?: AnalysisPhase;
  message?: string;
  terminated: boolean;
}

export type RolloutAnalysis = NonNullable<CanaryStep["analysis"]>;

export interface Observed {
  /** metadata.name: names of what the planner creates derive from it. */
  name: string;
  generation: number;
  spec: RolloutSpec;
  status: RolloutStatus;
  /** Hash of the current pod template. */
  templateHash: string;
  replicaSets: ObservedReplicaSet[];
  /** The baseline ReplicaSets (strategy.canary.baseline) owned by this Rollout: not revisions, kept
   * apart from replicaSets so no revision bookkeeping counts them. */
  baselines?: ObservedReplicaSet[];
  /** ControllerRevisions owned by this Rollout. */
  revisions: ObservedRevision[];
  /** AnalysisRuns owned by this Rollout. */
  analysisRuns: ObservedAnalysisRun[];
  /** Services the strategy names, by name: the pod-template hash in their selector (null: none).
   * A named Service missing here does not exist. */
  services: Record<string, string | null>;
  /** A routed canary with a canaryService: how many of that Service's ready endpoints are pods of
   * this revision. Its weight waits for them, as a ReplicaSet counts a pod available before the
   * EndpointSlice controller has added it. Undefined: not routed, no such ReplicaSet yet, or the
   * pod names cannot tell (see readyEndpointsOf). */
  canaryEndpoints?: number;
  /** A problem found while observing (a missing Service or template, a template the apiserver
   * refused): the planner reports it as the InvalidSpec condition and changes nothing else. */
  invalidSpec?: string;
  /** Whether the traffic router has accepted what it was last told (status.canary.weights);
   * undefined when there is no router or it cannot tell. */
  trafficVerified?: boolean;
  /** With invalidSpec, when the problem is that the apiserver refused this revision's ReplicaSet
   * (found while applying, or held from the status by heldRefusal): recorded as status.refusedTemplate. */
  refusedTemplate?: RefusedTemplate;
  /** workloadRef: the adopted Deployment as it is now. */
  deployment?: { replicas: number; available: number };
  /** While spec.restartAt is not yet done: the Rollout's pods created before it, and how many of
   * its pods are terminating. */
  restart?: { pods: { name: string; replicaSet: string }[]; terminating: number };
  now: Date;
}

export type Action =
  /** From the spec's template, or with `fromRevision` from that ControllerRevision's (a deleted stable ReplicaSet). */
  | { type: "createReplicaSet"; hash: string; revision: number; replicas: number; fromRevision?: string }
  /** A baseline: the ReplicaSet `<rollout>-<hash>` of revision `fromHash`'s template (the stable one),
   * labelled with `hash` and the baseline role instead of a revision. */
  | { type: "createBaselineReplicaSet"; hash: string; fromHash: string; replicas: number }
  | { type: "scaleReplicaSet"; name: string; replicas: number }
  | { type: "setScaleDownAt"; name: string; at: string | null }
  | { type: "deleteReplicaSet"; name: string }
  /** Keep a revision's pod template in the ControllerRevision <rollout>-<hash>: the spec's template for
   * the current revision, else the template of that revision's ReplicaSet. */
  | { type: "saveRevision"; hash: string; revision: number }
  | { type: "deleteRevision"; name: string }
  /** Point a Service's ramp.dev/pod-template-hash selector at a revision. */
  | { type: "setServiceSelector"; service: string; hash: string }
  | { type: "createAnalysisRun"; name: string; role: AnalysisRole; hash: string; stepIndex?: number; analysis: RolloutAnalysis }
  | { type: "terminateAnalysisRun"; name: string }
  /** workloadRef: the adopted Deployment's replicas. */
  | { type: "scaleDeployment"; replicas: number }
  /** spec.restartAt: replace one pod (its ReplicaSet makes a new one). */
  | { type: "deletePod"; name: string }
  /** POST to a gate step's URL in the background; its result comes back in status.canary.currentGate. */
  | { type: "callGate"; name: string; url: string; stepIndex: number; timeoutMs: number; attempt: number }
  | { type: "event"; reason: EventReason; message: string; warning?: boolean };

export interface Plan {
  actions: Action[];
  status: RolloutStatus;
  /** Set when the strategy uses a traffic router. */
  traffic?: DesiredTraffic;
  /** Look again after this long even if nothing changes (a timed pause, a scale-down delay). */
  requeueAfterMs?: number;
}
