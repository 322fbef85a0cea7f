// The AnalysisRun controller's shell: for each run, measure the metrics that are due through their
// providers, let the pure evaluator (evaluate.ts) decide, and write the status. Provider failures
// arrive as Error outcomes, so a broken Prometheus shows up in the run, never as a crashed loop.
import type { AnalysisRunSpec, AnalysisRunStatus } from "../api/analysis.ts";
import { canonicalJson } from "../api/canonical-json.ts";
import { API_VERSION } from "../api/group.ts";
import { EventReason } from "../api/reasons.ts";
import { isConflict, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import { Informer, objectKey, withoutBookkeeping } from "../kube/informer.ts";
import type { Log } from "../kube/log.ts";
import { type ReconcileResult, runWorkers, WorkQueue } from "../kube/queue.ts";
import { readOptedInSecret, SecretAccessError, secretKey } from "../kube/secrets.ts";
import { DESTINATION_NOT_ALLOWED, type OutboundDoor } from "../net/outbound.ts";
import { fieldValue, redacted } from "./args.ts";
import { advanceRun, dueMetrics, isTerminal } from "./evaluate.ts";
import type { AnalysisRunObserver } from "./observer.ts";
import { kubeJobs } from "./providers/job/kube-jobs.ts";
import { providerFor } from "./providers/registry.ts";
import type { JobApi, MeasureContext, ProviderOutcome } from "./types.ts";

const INSTANCE_ID_LABEL = "ramp.dev/controller-instance-id";

type RunObject = KubeObject & {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; controller?: boolean }[];
  };
  spec: AnalysisRunSpec;
  status?: AnalysisRunStatus;
};

export interface AnalysisControllerOptions {
  namespace?: string;
  /** Measure only runs labelled ramp.dev/controller-instance-id=<id>; without one, only unlabelled runs. */
  instanceId?: string;
  workers?: number;
  /** Prometheus address for metrics that name none (--prometheus-url / RAMP_PROMETHEUS_URL). */
  prometheusUrl?: string;
  /** The door every provider connects through (the controller's outbound policy). */
  outbound: OutboundDoor;
  now?: () => Date;
  log?: Log;
  /** Told of each failed watch, by kind (counted as ramp_watch_failures_total). */
  onWatchFailure?: (kind: string) => void;
  observer?: AnalysisRunObserver;
  /** Whether job metrics run (`--job-provider`): their Jobs are created with the controller's
   * rights, so an operator opts in (docs/security.md). */
  jobProvider?: boolean;
  /** The process's Event recorder. */
  events: EventRecorder;
}

/** A run whose arguments cannot be resolved cannot measure anything: it ends in Error, saying why. */
class ArgumentProblem extends Error {}

export class AnalysisRunController {
  private readonly client: KubeClient;
  private readonly opts: AnalysisControllerOptions;
  private readonly queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 60_000 });
  private readonly runs: Informer<RunObject>;
  private readonly jobs: JobApi;
  /** Cancels the measurements in flight, by run: on its deletion or terminate, and on stop(). */
  private readonly measuring = new Map<string, AbortController>();
  private workers: Promise<void> | undefined;
  private stopping = false;

  constructor(client: KubeClient, opts: AnalysisControllerOptions) {
    this.client = client;
    this.opts = opts;
    this.jobs = kubeJobs(client);
    const failed = {
      onError: (err: unknown) => opts.log?.(`list/watch failed, retrying: ${(err as Error).message}`, "warn"),
      ...(opts.onWatchFailure ? { onWatchFailure: opts.onWatchFailure } : {}),
    };
    this.runs = new Informer(client, {
      ...failed,
      transform: withoutBookkeeping,
      apiVersion: API_VERSION,
      kind: "AnalysisRun",
      namespace: opts.namespace,
      labelSelector: opts.instanceId ? `${INSTANCE_ID_LABEL}=${opts.instanceId}` : `!${INSTANCE_ID_LABEL}`,
      onChange: (type, run) => {
        opts.observer?.analysisRun(objectKey(run), type === "DELETED" ? undefined : run);
        // A run deleted or terminated stops waiting on what it measures (a Job can take minutes).
        if (type === "DELETED" || run.spec?.terminate) this.measuring.get(objectKey(run))?.abort();
        if (type !== "DELETED") this.queue.add(objectKey(run));
      },
    });
  }

  get synced(): boolean {
    return this.runs.hasSynced;
  }

  get problems(): string[] {
    return this.runs.problem ? [this.runs.problem] : [];
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    await this.runs.start();
    // Stopped while the cache filled: nothing is started after stop().
    if (this.stopping) return;
    this.workers = runWorkers(
      this.queue,
      this.opts.workers ?? 4,
      (key) => this.reconcile(key),
      (key, err, retryInMs) =>
        this.opts.log?.(`analysis ${key} failed (retry in ${retryInMs}ms): ${(err as Error).message}`, "warn"),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.shutDown();
    // A stopping (or deposed) controller does not hold the workers for a Job's whole timeout.
    for (const measuring of this.measuring.values()) measuring.abort();
    await this.workers;
    this.runs.stop();
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const run = this.runs.get(key);
    if (!run || run.metadata.deletionTimestamp || isTerminal(run.status?.phase)) return undefined;
    const now = this.opts.now?.() ?? new Date();
    const due = dueMetrics(run.spec, run.status, now);
    const outcomes: Record<string, ProviderOutcome> = {};
    if (due.length) {
      let ctx: MeasureContext;
      let secrets: string[];
      try {
        ({ ctx, secrets } = await this.context(run, now));
      } catch (err) {
        if (!(err instanceof ArgumentProblem)) throw err;
        await this.writeStatus(run, { ...run.status, phase: "Error", message: err.message, startedAt: now.toISOString() });
        return undefined;
      }
      const cancel = new AbortController();
      this.measuring.set(key, cancel);
      try {
        await Promise.all(
          due.map(async (metric) => {
            const provider = providerFor(metric);
            outcomes[metric.name] = provider
              ? redacted(await provider.measure(metric, { ...ctx, signal: cancel.signal }), secrets)
              : { ok: false, code: "NO_PROVIDER", message: `metric "${metric.name}" names no known provider` };
          }),
        );
      } finally {
        this.measuring.delete(key);
      }
      // Cancelled measurements are not results: the next reconcile sees why (terminate, deletion)
      // or, after a stop, the next leader measures again.
      if (cancel.signal.aborted) return { requeueAfterMs: 0 };
    }
    const step = advanceRun(run.spec, run.status, now, outcomes);
    await this.writeStatus(run, step.status);
    this.recordRefusals(run, outcomes);
    return step.requeueAfterMs !== undefined ? { requeueAfterMs: step.requeueAfterMs } : undefined;
  }

  /** What the providers need, and the secret values to mask in what they report. */
  private async context(run: RunObject, now: Date): Promise<{ ctx: MeasureContext; secrets: string[] }> {
    const { namespace } = run.metadata;
    // Only the run's own namespace, only Secrets opted in to analysis (whichever template asks).
    const readSecret = async (_ns: string, name: string, key: string) =>
      secretKey(await readOptedInSecret(this.client, namespace, name, "analysis"), namespace, name, key);
    const args: Record<string, string> = {};
    const secrets: string[] = [];
    for (const arg of run.spec.args ?? []) {
      try {
        if (arg.value !== undefined) args[arg.name] = arg.value;
        else if (arg.valueFrom?.secretKeyRef) {
          const ref = arg.valueFrom.secretKeyRef;
          args[arg.name] = await readSecret(namespace, ref.name, ref.key);
          secrets.push(args[arg.name] as string);
        } else if (arg.valueFrom?.fieldRef) {
          args[arg.name] = await this.ownerField(run, arg.valueFrom.fieldRef.fieldPath);
        } else throw new Error("it has no value");
      } catch (err) {
        const code = err instanceof SecretAccessError ? `${err.code}: ` : "";
        throw new ArgumentProblem(`argument "${arg.name}": ${code}${(err as Error).message}`);
      }
    }
    const taken = Object.fromEntries(
      (run.status?.metricResults ?? []).map((r) => [r.name, (r.count ?? 0) + (r.error ?? 0)] as const),
    );
    const uid = String((run.metadata as { uid?: string }).uid ?? "");
    const ctx: MeasureContext = {
      args,
      now,
      namespace,
      readSecret,
      outbound: this.opts.outbound,
      run: { apiVersion: API_VERSION, kind: "AnalysisRun", name: run.metadata.name, uid, taken },
      ...(this.opts.jobProvider ? { jobs: this.jobs } : {}),
      ...(this.opts.prometheusUrl ? { defaultPrometheusUrl: this.opts.prometheusUrl } : {}),
    };
    return { ctx, secrets };
  }

  /** A destination the outbound policy refused is worth an Event beside the measurement: an
   * operator watching Events sees a tenant aiming at what the policy guards. */
  private recordRefusals(run: RunObject, outcomes: Record<string, ProviderOutcome>): void {
    const { name, namespace, uid } = run.metadata as RunObject["metadata"] & { uid?: string };
    for (const [metric, outcome] of Object.entries(outcomes)) {
      if (outcome.ok || outcome.code !== DESTINATION_NOT_ALLOWED) continue;
      this.opts.events.record({
        involved: { apiVersion: API_VERSION, kind: "AnalysisRun", name, namespace, uid },
        reason: EventReason.DestinationNotAllowed,
        message: `metric ${metric}: ${outcome.message}`,
        warning: true,
        instance: "ramp-controller",
      });
    }
  }

  /** fieldRef arguments read the object that owns the run (the Rollout). */
  private async ownerField(run: RunObject, fieldPath: string): Promise<string> {
    const owner = run.metadata.ownerReferences?.find((o) => o.controller);
    if (!owner) throw new Error(`fieldRef ${fieldPath} needs an owner, and the run has none`);
    const obj = await this.client.get(owner.apiVersion, owner.kind, owner.name, run.metadata.namespace);
    const value = fieldValue(obj, fieldPath);
    if (value === undefined) throw new Error(`${owner.kind} "${owner.name}" has no field ${fieldPath}`);
    return value;
  }

  /** Written with the resourceVersion read: a concurrent change (terminate, a person) wins, and the
   * run is measured again on fresh data. */
  private async writeStatus(run: RunObject, status: AnalysisRunStatus): Promise<void> {
    if (canonicalJson(status) === canonicalJson(run.status ?? {})) return;
    try {
      this.runs.remember(await this.client.replace({ ...run, status }, { subresource: "status" }));
    } catch (err) {
      if (isConflict(err))
        throw new Error(`AnalysisRun ${run.metadata.namespace}/${run.metadata.name} changed meanwhile; retrying`);
      throw err;
    }
  }
}
