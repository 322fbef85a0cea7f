// Test-only: the shell's steps on a fake apiserver, with caches that are filled by hand (never
// started) and a context that records what was requeued and logged.
import { API_VERSION } from "../../api/group.ts";
import { type RolloutSpec, rolloutSpec } from "../../api/rollout.ts";
import type { KubeObject } from "../../kube/client.ts";
import { EventRecorder } from "../../kube/events.ts";
import { FakeApiserver, type FakeKind } from "../../kube/fake-apiserver.ts";
import { Informer } from "../../kube/informer.ts";
import { apiserverReader } from "../../kube/object-caches.ts";
import { OutboundDoor } from "../../net/outbound.ts";
import { isManaged } from "../../traffic/managed.ts";
import type { RolloutObject } from "../objects.ts";
import { BackgroundWrites, BY_OWNER, type Caches, ownerUid, type StepContext } from "./context.ts";

export const KINDS: FakeKind[] = [
  { apiVersion: "v1", kind: "Service", plural: "services" },
  { apiVersion: "v1", kind: "Pod", plural: "pods" },
  { apiVersion: "v1", kind: "Event", plural: "events" },
  { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", plural: "endpointslices" },
  { apiVersion: "apps/v1", kind: "ReplicaSet", plural: "replicasets" },
  { apiVersion: "apps/v1", kind: "ControllerRevision", plural: "controllerrevisions" },
  { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" },
  { apiVersion: API_VERSION, kind: "Rollout", plural: "rollouts" },
  { apiVersion: API_VERSION, kind: "AnalysisRun", plural: "analysisruns" },
  { apiVersion: API_VERSION, kind: "AnalysisTemplate", plural: "analysistemplates" },
  { apiVersion: API_VERSION, kind: "ClusterAnalysisTemplate", plural: "clusteranalysistemplates", namespaced: false },
  { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", plural: "httproutes" },
  { apiVersion: "gateway.networking.k8s.io/v1beta1", kind: "ReferenceGrant", plural: "referencegrants" },
];

export interface ShellFixture {
  apiserver: FakeApiserver;
  ctx: StepContext;
  requeued: string[];
  logged: string[];
}

export async function shellFixture(): Promise<ShellFixture> {
  const apiserver = await new FakeApiserver(KINDS).start();
  const client = apiserver.client();
  const informer = <T extends KubeObject>(apiVersion: string, kind: string, owned = false) =>
    new Informer<T>(client, { apiVersion, kind, ...(owned ? { indexers: { [BY_OWNER]: ownerUid as (o: T) => string[] } } : {}) });
  const caches = {
    rollouts: informer(API_VERSION, "Rollout"),
    replicaSets: informer("apps/v1", "ReplicaSet", true),
    revisions: informer("apps/v1", "ControllerRevision", true),
    services: informer("v1", "Service"),
    analysisRuns: informer(API_VERSION, "AnalysisRun", true),
    deployments: informer("apps/v1", "Deployment"),
    templates: informer(API_VERSION, "AnalysisTemplate"),
    clusterTemplates: informer(API_VERSION, "ClusterAnalysisTemplate"),
  } as Caches;
  const requeued: string[] = [];
  const logged: string[] = [];
  const ctx: StepContext = {
    client,
    caches,
    outbound: new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] }),
    events: new EventRecorder(client),
    historyClient: client,
    history: new BackgroundWrites(),
    routerObjects: () => apiserverReader(client),
    statusWrittenAt: new Map(),
    busy: () => false,
    requeue: (key) => requeued.push(key),
    log: (line) => logged.push(line),
  };
  return { apiserver, ctx, requeued, logged };
}

export const spec = (strategy: Record<string, unknown> = { canary: { steps: [{ setWeight: 50 }] } }): RolloutSpec =>
  rolloutSpec.parse({
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
    strategy,
  });

export const rolloutObject = (s: RolloutSpec, extra: Partial<RolloutObject["metadata"]> = {}): RolloutObject =>
  ({
    apiVersion: API_VERSION,
    kind: "Rollout",
    metadata: { name: "web", namespace: "ns", uid: "u1", generation: 1, resourceVersion: "1", ...extra },
    spec: s,
  }) as RolloutObject;

/** A canary routed through the HTTPRoute "web" (in `namespace`, default the Rollout's). */
export const gatewaySpec = (namespace?: string): RolloutSpec =>
  spec({
    canary: {
      stableService: "web-stable",
      canaryService: "web-canary",
      trafficRouting: { gatewayAPI: { httpRoute: "web", ...(namespace ? { namespace } : {}) } },
      steps: [{ setWeight: 50 }],
    },
  });

/** The user's HTTPRoute: one rule to both Services, and the Gateway's verdict if one is given. */
export const httpRoute = (namespace = "ns", accepted?: boolean): KubeObject => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name: "web", namespace, generation: 1 },
  spec: {
    rules: [
      {
        backendRefs: [
          { name: "web-stable", port: 80, weight: 100 },
          { name: "web-canary", port: 80, weight: 0 },
        ],
      },
    ],
  },
  ...(accepted === undefined
    ? {}
    : {
        status: {
          parents: [{ conditions: [{ type: "Accepted", status: accepted ? "True" : "False", observedGeneration: 1 }] }],
        },
      }),
});

export type RouteRule = { name?: string; backendRefs?: { name: string; weight?: number }[] };

/** The weights of the route's first user rule, by Service, and the names of Ramp's rules. */
export function routeShape(route: KubeObject | undefined): { weights: Record<string, number>; managed: string[] } {
  const rules = ((route as { spec?: { rules?: RouteRule[] } } | undefined)?.spec?.rules ?? []) as RouteRule[];
  const user = rules.find((r) => !isManaged(r.name));
  return {
    weights: Object.fromEntries((user?.backendRefs ?? []).map((b) => [b.name, b.weight ?? 1])),
    managed: rules.flatMap((r) => (r.name && isManaged(r.name) ? [r.name] : [])),
  };
}
