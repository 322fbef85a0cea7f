// The dashboard's picture of the cluster: one informer (list + watch) per kind it shows, in one
// namespace or all. Every change wakes the subscribers, who compute their page's view again; nothing
// polls. The weight history lives here too: a dashboard started mid-rollout draws from its start.
import { API_VERSION } from "../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import type { AnalysisRunObject, PodObject, ReplicaSetObject } from "../rollout/objects.ts";
import type { LiveRollout } from "../rollout/operations.ts";
import {
  type EventObject,
  type HistoryPoint,
  type RolloutDetail,
  type RolloutRow,
  recordHistory,
  rolloutDetail,
  rolloutRows,
} from "./view.ts";

// Changes arriving together (a reconcile writes the Rollout, its ReplicaSets and an Event) make one push.
const SETTLE_MS = 50;

export class ClusterWatches {
  private readonly rollouts: Informer<LiveRollout>;
  private readonly replicaSets: Informer<ReplicaSetObject>;
  private readonly pods: Informer<PodObject>;
  private readonly runs: Informer<AnalysisRunObject>;
  private readonly events: Informer<EventObject>;
  private readonly all: Informer<KubeObject>[];
  private readonly history = new Map<string, HistoryPoint[]>();
  private readonly listeners = new Set<() => void>();
  private readonly problems = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(client: KubeClient, namespace: string | undefined, now: () => number = Date.now) {
    const changed = () => {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        for (const listener of this.listeners) listener();
      }, SETTLE_MS);
    };
    const informer = <T extends KubeObject>(
      apiVersion: string,
      kind: string,
      extra: { labelSelector?: string; fieldSelector?: string } = {},
    ) =>
      new Informer<T>(client, {
        apiVersion,
        kind,
        ...(namespace ? { namespace } : {}),
        ...extra,
        onChange: (_type, obj) => {
          this.problems.delete(kind);
          if (kind === "Rollout") this.record(obj as unknown as LiveRollout, now());
          changed();
        },
        onError: (err) => {
          this.problems.set(kind, (err as Error).message);
          changed();
        },
      });
    this.rollouts = informer<LiveRollout>(API_VERSION, "Rollout");
    this.replicaSets = informer<ReplicaSetObject>("apps/v1", "ReplicaSet", { labelSelector: POD_TEMPLATE_HASH_LABEL });
    this.pods = informer<PodObject>("v1", "Pod", { labelSelector: POD_TEMPLATE_HASH_LABEL });
    this.runs = informer<AnalysisRunObject>(API_VERSION, "AnalysisRun");
    this.events = informer<EventObject>("v1", "Event", { fieldSelector: `involvedObject.apiVersion=${API_VERSION}` });
    this.all = [this.rollouts, this.replicaSets, this.pods, this.runs, this.events] as unknown as Informer<KubeObject>[];
  }

  private record(r: LiveRollout, now: number): void {
    const key = `${r.metadata.namespace}/${r.metadata.name}`;
    this.history.set(key, recordHistory(this.history.get(key) ?? [], r, now));
  }

  /** Starts every watch in the background; one that fails keeps trying and is reported meanwhile. */
  start(): void {
    for (const informer of this.all) void informer.start();
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const informer of this.all) informer.stop();
  }

  /** Calls `listener` after each change (settled); returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Why what is shown may be incomplete: a list or watch the apiserver refused, by kind. */
  get issues(): string[] {
    // One line per failure: an apiserver out of reach fails every kind alike.
    const kinds = Map.groupBy(this.problems, ([, message]) => message);
    return [...kinds].map(([message, entries]) => `${entries.map(([kind]) => kind).join(", ")}: ${message}`);
  }

  get synced(): boolean {
    return this.rollouts.hasSynced;
  }

  list(): { rollouts: RolloutRow[]; synced: boolean; issues: string[] } {
    return { rollouts: rolloutRows(this.rollouts.list()), synced: this.synced, issues: this.issues };
  }

  /** The page of one Rollout; undefined while it does not exist (or is not yet listed). */
  detail(namespace: string, name: string): RolloutDetail | undefined {
    const key = `${namespace}/${name}`;
    const r = this.rollouts.get(key);
    if (!r) return undefined;
    const here = <T extends KubeObject>(informer: Informer<T>) =>
      informer.list().filter((o) => o.metadata.namespace === namespace);
    return rolloutDetail(
      r,
      { replicaSets: here(this.replicaSets), pods: here(this.pods), runs: here(this.runs), events: here(this.events) },
      this.history.get(key) ?? [],
    );
  }
}
