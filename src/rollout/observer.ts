// What the Rollout controller reports about its own work, for metrics. The server implements it
// with prom-client; the controller only calls it, so it stays free of any metrics library.

import type { ReconcileOutcome } from "../kube/queue.ts";
import type { RolloutTransition } from "./transition.ts";

export type { ReconcileOutcome };

/** One Rollout's state after a reconcile: the figures behind the per-rollout gauges. */
export interface RolloutGauge {
  phase: "Progressing" | "Paused" | "Healthy" | "Degraded";
  strategy: "canary" | "blueGreen";
  /** Index of the current canary step (0 for blue-green). */
  step: number;
  /** Traffic share of the canary (blue-green: 100 once the active Service points at the new pods). */
  canaryWeight: number;
  desiredReplicas: number;
  availableReplicas: number;
  updatedReplicas: number;
  /** The Services the strategy names, by role (stable and canary; active and preview for blue-green). */
  services: { role: ServiceRole; service: string }[];
}

export type ServiceRole = "stable" | "canary" | "active" | "preview";

export interface ControllerObserver {
  reconciled(outcome: ReconcileOutcome, durationSeconds: number): void;
  /** The state of one Rollout after a reconcile; undefined once the Rollout is gone. */
  rollout(namespace: string, name: string, gauge: RolloutGauge | undefined): void;
  /** What a status write changed (see transition.ts), once it is written. */
  rolloutTransition(namespace: string, name: string, strategy: RolloutGauge["strategy"], change: RolloutTransition): void;
  /** The reasons of the Events recorded on a Rollout. */
  rolloutEvents(namespace: string, name: string, reasons: string[]): void;
  /** One apiserver call (an HTTP method, or WATCH for a watch stream) answered, or failed with no
   * answer: code 0. */
  apiRequest(method: string, url: URL, code: number): void;
}
