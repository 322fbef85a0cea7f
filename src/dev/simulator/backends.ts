// Pure: which pods a Service's ready endpoints lead to, and how each behaves, from its template's
// env (SIM_ERROR_RATE, SIM_LATENCY_MS, SIM_LATENCY_JITTER_MS).
import type { Backend } from "./routes.ts";

export interface PodBehaviour {
  pod: string;
  podTemplateHash: string;
  /** The Deployment or Rollout behind the pod's ReplicaSet, as service meshes label it. */
  workload: string;
  errorRate: number;
  latencyMs: number;
  jitterMs: number;
}

export interface ClusterView {
  endpointSlices: {
    metadata: { namespace: string; labels?: Record<string, string> };
    endpoints?: { conditions?: { ready?: boolean; terminating?: boolean }; targetRef?: { kind?: string; name?: string } }[];
  }[];
  pods: {
    metadata: {
      name: string;
      namespace: string;
      labels?: Record<string, string>;
      ownerReferences?: { kind: string; name: string }[];
    };
    spec: { containers: { env?: { name: string; value?: string }[] }[] };
  }[];
  replicaSets: { metadata: { name: string; namespace: string; ownerReferences?: { kind: string; name: string }[] } }[];
}

const envNumber = (env: { name: string; value?: string }[], name: string, fallback: number) => {
  const v = Number(env.find((e) => e.name === name)?.value);
  return Number.isFinite(v) ? v : fallback;
};

/** Ready pods behind a backend; none means the router answers 503. */
export function readyPods(view: ClusterView, backend: Backend): PodBehaviour[] {
  const names = new Set(
    view.endpointSlices
      .filter(
        (s) =>
          s.metadata.namespace === backend.namespace && s.metadata.labels?.["kubernetes.io/service-name"] === backend.service,
      )
      .flatMap((s) => s.endpoints ?? [])
      .filter((e) => e.conditions?.ready !== false && !e.conditions?.terminating && e.targetRef?.kind === "Pod")
      .map((e) => e.targetRef?.name),
  );
  return view.pods
    .filter((p) => p.metadata.namespace === backend.namespace && names.has(p.metadata.name))
    .filter((p) => Object.entries(backend.subsetLabels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v))
    .map((p) => {
      const env = p.spec.containers.flatMap((c) => c.env ?? []);
      const rsName = p.metadata.ownerReferences?.find((o) => o.kind === "ReplicaSet")?.name;
      const rs = view.replicaSets.find((r) => r.metadata.namespace === p.metadata.namespace && r.metadata.name === rsName);
      const labels = p.metadata.labels ?? {};
      return {
        pod: p.metadata.name,
        podTemplateHash: labels["ramp.dev/pod-template-hash"] ?? labels["pod-template-hash"] ?? "",
        workload: rs?.metadata.ownerReferences?.[0]?.name ?? rsName ?? p.metadata.name,
        errorRate: Math.min(1, Math.max(0, envNumber(env, "SIM_ERROR_RATE", 0))),
        latencyMs: Math.max(0, envNumber(env, "SIM_LATENCY_MS", 20)),
        jitterMs: Math.max(0, envNumber(env, "SIM_LATENCY_JITTER_MS", 5)),
      };
    });
}
