// Pure: the Job a job metric runs, and its verdict. The Job lives in the run's namespace, is owned
// by the run (so deleting the run deletes it), carries labels naming the run and annotations naming
// the metric, and is bounded: activeDeadlineSeconds at most the metric's timeout, no retries unless
// asked (a retried analysis hides a flaky check). Its name follows from the run, the metric and the
// measurement's number, so a controller restarted mid-measurement finds the Job it made.
import { createHash } from "node:crypto";
import type { Metric } from "../../../api/analysis.ts";
import { API_VERSION } from "../../../api/group.ts";
import { formatPath, validateObject } from "../../../api/validate.ts";
import type { JobObject } from "../../types.ts";

type JobSpec = NonNullable<Metric["provider"]["job"]>;

export const JOB_DEFAULT_TIMEOUT_S = 600;
export const RUN_UID_LABEL = "ramp.dev/analysis-run-uid";
export const RUN_ANNOTATION = "ramp.dev/analysis-run";
export const METRIC_ANNOTATION = "ramp.dev/metric";

export interface JobOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A DNS label naming measurement `n` of `metric` in the run: readable, at most 63 characters, unique by a hash. */
export function jobName(owner: JobOwner, metric: string, n: number): string {
  const hash = createHash("sha256").update(`${owner.uid}/${metric}/${n}`).digest("hex").slice(0, 8);
  const readable = `${owner.name}-${metric}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 63 - `-${n}-${hash}`.length)
    .replace(/^-+|-+$/g, "");
  return `${readable || "analysis"}-${n}-${hash}`;
}

/** Why the Job of `spec` (its arguments substituted) may not be made, by the schema's and the
 * CRD's own rules; undefined when it may. Checked again here because the CRD that stored the run
 * may be older than this controller (Helm never upgrades CRDs), and the rules are what stop a
 * tenant's Job from running as another ServiceAccount or on the node's namespaces. */
export function jobSpecProblem(metric: string, spec: JobSpec): string | undefined {
  const template = { metrics: [{ name: metric, provider: { job: spec } }] };
  const checked = validateObject({
    apiVersion: API_VERSION,
    kind: "AnalysisTemplate",
    metadata: { name: "job" },
    spec: template,
  });
  const problem = checked.status === "checked" ? checked.problems[0] : undefined;
  return problem && `${formatPath(problem.path).replace(/^spec\.metrics\[0\]\.provider\./, "")}: ${problem.message}`;
}

export function jobManifest(
  spec: JobSpec,
  owner: JobOwner,
  namespace: string,
  metric: string,
  n: number,
  timeoutS: number,
): JobObject {
  const { activeDeadlineSeconds, backoffLimit, ...rest } = spec.spec;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName(owner, metric, n),
      namespace,
      labels: { ...spec.metadata?.labels, [RUN_UID_LABEL]: owner.uid },
      annotations: { ...spec.metadata?.annotations, [RUN_ANNOTATION]: owner.name, [METRIC_ANNOTATION]: metric },
      ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }],
    },
    spec: {
      ...rest,
      backoffLimit: backoffLimit ?? 0,
      activeDeadlineSeconds: Math.min(activeDeadlineSeconds ?? timeoutS, timeoutS),
    },
  };
}

export type JobVerdict = { phase: "Successful" | "Failed"; reason: string; message: string };

/** Successful once the Job is Complete, Failed once it is Failed (the Job controller's final
 * conditions; SuccessCriteriaMet and FailureTarget come before them); undefined while it runs. */
export function jobVerdict(job: JobObject): JobVerdict | undefined {
  const holds = (type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === "True");
  const complete = holds("Complete");
  if (complete) return { phase: "Successful", reason: complete.reason ?? "Complete", message: complete.message ?? "" };
  const failed = holds("Failed");
  if (failed) return { phase: "Failed", reason: failed.reason ?? "Failed", message: failed.message ?? "" };
  return undefined;
}

/** Whether an existing Job of that name is this run's (anything else is never adopted). */
export const ownedBy = (job: JobObject, owner: JobOwner) =>
  ((job.metadata.ownerReferences as { uid?: string }[] | undefined) ?? []).some((o) => o.uid === owner.uid);
