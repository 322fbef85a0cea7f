// The seam between metric providers (I/O: Prometheus, the slo shorthand, the judge) and the pure
// evaluation of measurements, limits and phases. A provider never throws: every failure is data.

import type { AnalysisPhase, Metric } from "../api/analysis.ts";
import type { Code } from "../api/codes.ts";
import type { KubeObject } from "../kube/client.ts";
import type { OutboundDoor } from "../net/outbound.ts";

/** What one query gave: one number, several (one per series, or the points of a range), or nothing. */
export type MeasuredValue = number | number[];

export type ProviderOutcome =
  | {
      ok: true;
      /** undefined or an empty list: no data (the metric's noData policy decides). NaN stays NaN. */
      value: MeasuredValue | undefined;
      /** Providers that judge by themselves (slo, judge) say so; plain queries leave it to the conditions. */
      verdict?: Extract<AnalysisPhase, "Successful" | "Failed" | "Inconclusive">;
      /** Shown in the measurement: the query that ran, test statistics, sample sizes. Never secrets. */
      metadata?: Record<string, string>;
    }
  | {
      ok: false;
      /** Stable machine-readable code, e.g. PROMETHEUS_UNREACHABLE, PROMETHEUS_BAD_QUERY, PROMETHEUS_TIMEOUT. */
      code: Code;
      message: string;
      metadata?: Record<string, string>;
    };

export interface MeasureContext {
  /** Resolved argument values (secrets included: never log or store them). */
  args: Record<string, string>;
  /** Instant queries evaluate at this time; range windows end here. */
  now: Date;
  /** Default Prometheus address (controller flag or RAMP_PROMETHEUS_URL) when the metric names none. */
  defaultPrometheusUrl?: string;
  /** Reads a Secret's key (auth from secretKeyRef); absent outside a cluster. */
  readSecret?: (namespace: string, name: string, key: string) => Promise<string>;
  namespace?: string;
  signal?: AbortSignal;
  /** The only way out: every connection a provider makes goes through this door (src/net). */
  outbound: OutboundDoor;
  /** The run being measured: owner of what a provider creates (a Job), and the measurements each
   * metric has taken so far (successes, failures, inconclusives and errors), which names the next. */
  run?: { apiVersion: string; kind: string; name: string; uid: string; taken: Record<string, number> };
  /** Jobs in the run's namespace (the job provider); absent outside a cluster. */
  jobs?: JobApi;
}

/** A batch/v1 Job as the job provider reads it. */
export type JobObject = KubeObject & {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};

/** What the job provider needs of the apiserver (I/O behind a seam: providers/job/kube-jobs.ts). */
export interface JobApi {
  /** Creates the Job, or gives the one of that name already there (a restarted controller carries on). */
  createOrGet(job: JobObject): Promise<JobObject>;
  /** The Job once `done` holds for it, watching it meanwhile; rejects when `signal` aborts or the Job goes away. */
  waitFor(namespace: string, name: string, done: (job: JobObject) => boolean, signal: AbortSignal): Promise<JobObject>;
  /** Deletes the Job and (in the background) its pods; a Job already gone is fine. */
  delete(namespace: string, name: string): Promise<void>;
}

export interface MetricProvider {
  /** The key of metric.provider this provider serves: "prometheus", "slo", "judge". */
  readonly name: string;
  measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome>;
}
