// The `job` provider (Argo Rollouts' job metric): runs the metric's Job (its strings with
// {{args.NAME}} substituted, as Argo does) in the run's namespace and
// waits for the Job controller's verdict (watching the Job, not polling), then deletes it. A Job that
// outlives activeDeadlineSeconds is failed by the Job controller (DeadlineExceeded); the wait itself
// ends a minute later at most (JOB_TIMEOUT), so a stuck Job controller cannot hold a worker forever.
import type { Metric } from "../../../api/analysis.ts";
import { isAlreadyExists, KubeError } from "../../../kube/client.ts";
import type { MeasureContext, MetricProvider, ProviderOutcome } from "../../types.ts";
import { failure, MeasureError, seconds, substituted } from "../prometheus/measure.ts";
import { JOB_DEFAULT_TIMEOUT_S, jobManifest, jobSpecProblem, jobVerdict, ownedBy } from "./job.ts";

/** How long after activeDeadlineSeconds the wait gives up on the Job controller. */
const GRACE_MS = 60_000;

/** `value` with {{args.NAME}} substituted in every string of it (container args, env values...). */
function substitutedDeep<T>(value: T, ctx: MeasureContext, field: string): T {
  if (typeof value === "string") return substituted(value, ctx, false, field) as T;
  if (Array.isArray(value)) return value.map((v, i) => substitutedDeep(v, ctx, `${field}[${i}]`)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitutedDeep(v, ctx, `${field}.${k}`)] as const)) as T;
  }
  return value;
}

export const jobProvider: MetricProvider = {
  name: "job",
  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome> {
    const metadata: Record<string, string> = {};
    const spec = metric.provider.job;
    let created: { namespace: string; name: string } | undefined;
    try {
      if (!spec) throw new MeasureError("PROVIDER_MISMATCH", `metric ${metric.name} has no job provider`);
      const { jobs, run, namespace } = ctx;
      if (!jobs)
        throw new MeasureError(
          "JOB_PROVIDER_DISABLED",
          "job metrics are off: the controller runs without --job-provider (chart value jobProvider.enabled)",
        );
      if (!run || !namespace) throw new MeasureError("JOB_UNAVAILABLE", "no run to own the Job");
      const timeoutS = spec.timeout === undefined ? JOB_DEFAULT_TIMEOUT_S : seconds(spec.timeout);
      const n = (run.taken[metric.name] ?? 0) + 1;
      const wanted = substitutedDeep(spec, ctx, "job");
      const problem = jobSpecProblem(metric.name, wanted);
      if (problem) throw new MeasureError("JOB_SPEC_REFUSED", `the Job is not created: ${problem}`);
      const manifest = jobManifest(wanted, run, namespace, metric.name, n, timeoutS);
      const name = manifest.metadata.name as string;
      metadata.job = name;
      const job = await jobs.createOrGet(manifest).catch((err: unknown) => {
        if (err instanceof KubeError && !isAlreadyExists(err))
          throw new MeasureError("JOB_CREATE_FAILED", `cannot create Job ${namespace}/${name}: ${err.message}`);
        throw new MeasureError("JOB_UNAVAILABLE", `cannot create Job ${namespace}/${name}: ${(err as Error).message}`);
      });
      if (!ownedBy(job, run))
        throw new MeasureError("JOB_CREATE_FAILED", `Job ${namespace}/${name} exists and belongs to something else`);
      created = { namespace, name };
      const deadline = AbortSignal.timeout(timeoutS * 1000 + GRACE_MS);
      const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
      const done = await jobs
        .waitFor(namespace, name, (j) => jobVerdict(j) !== undefined, signal)
        .catch((err: unknown) => {
          if (ctx.signal?.aborted) throw new MeasureError("JOB_ABORTED", `waiting for Job ${namespace}/${name} was cancelled`);
          if (deadline.aborted)
            throw new MeasureError(
              "JOB_TIMEOUT",
              `Job ${namespace}/${name} was neither Complete nor Failed ${timeoutS + GRACE_MS / 1000}s after it was created`,
            );
          throw new MeasureError("JOB_UNAVAILABLE", `cannot watch Job ${namespace}/${name}: ${(err as Error).message}`);
        });
      const verdict = jobVerdict(done);
      if (!verdict) throw new MeasureError("JOB_UNAVAILABLE", `Job ${namespace}/${name} ended without a verdict`);
      metadata.reason = verdict.reason;
      if (verdict.message) metadata.message = verdict.message.slice(0, 512);
      return { ok: true, value: undefined, verdict: verdict.phase, metadata };
    } catch (err) {
      return failure(err, metadata);
    } finally {
      // Best effort: the run's deletion collects any Job left behind (it owns them).
      if (created) await ctx.jobs?.delete(created.namespace, created.name).catch(() => undefined);
    }
  },
};
