// Least privilege, proven: the controller runs as the chart's ServiceAccount only (a token from the
// TokenRequest API, nothing else in its kubeconfig) through a canary with a Gateway API route, a
// step analysis against the dev Prometheus with a Secret argument and a job metric, a signed webhook notification
// and a restart. With every rule it completes without a single 403; without any one rule it says
// which verb on which resource it was refused - in its log, a condition, an AnalysisRun or an Event
// - and keeps running.
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { CHART, helm, helmBinary } from "../scripts/helm.ts";
import type { KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, getRollout, rollout, service, setImage, startController } from "./rollouts.ts";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
type Role = KubeObject & { rules: Rule[] };

const NAME = "web";

/** The chart's RBAC for one release, as `helm template` renders it. */
async function renderRbac(release: string, ns: string, instanceId: string): Promise<KubeObject[]> {
  const text = await helm([
    "template",
    release,
    CHART,
    "--namespace",
    ns,
    "--set",
    `instanceId=${instanceId}`,
    "--set",
    "aggregateRoles=false",
    // The job metric scenario needs the provider and its rule (both off by default).
    "--set",
    "jobProvider.enabled=true",
    "--show-only",
    "templates/serviceaccount.yaml",
    "--show-only",
    "templates/rbac.yaml",
  ]);
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject)
    .filter(Boolean);
}

/** A kubeconfig that is the ServiceAccount and nothing else: a token minted by the TokenRequest API. */
async function tokenKubeconfig(ns: string, sa: string, file: string): Promise<string> {
  const answer = await kube().request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
    { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  );
  const admin = parse(readFileSync(cluster().kubeconfig, "utf8"));
  const config = {
    ...admin,
    users: [{ name: sa, user: { token: answer.status.token } }],
    contexts: [{ name: sa, context: { cluster: admin.clusters[0].name, user: sa } }],
    "current-context": sa,
  };
  writeFileSync(file, stringify(config));
  return file;
}

/** A webhook receiver on 127.0.0.1 that records the events it is told of. */
async function receiver(): Promise<{ url: string; events: string[]; close: () => Promise<void> }> {
  const events: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      events.push(String(JSON.parse(body).event));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    events,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Setup {
  release: string;
  ctrlNs: string;
  appNs: string;
  instanceId: string;
  controller: ControllerProcess;
}

/** Grants the rendered RBAC (minus `drop`), starts the controller as its ServiceAccount, and creates
 * the app's objects: Services, an HTTPRoute, an analysis template reading a Secret, notifications. */
async function setUp(hookUrl: string, drop: (rules: Rule[]) => Rule[] = (r) => r): Promise<Setup> {
  const instanceId = randomBytes(4).toString("hex");
  const release = `rbac-${instanceId}`;
  const ctrlNs = await namespace("rbac-ctrl");
  const appNs = await namespace("rbac-app");
  for (const obj of await renderRbac(release, ctrlNs, instanceId)) {
    if (obj.kind === "ClusterRole" || obj.kind === "Role") (obj as Role).rules = drop((obj as Role).rules);
    await kube().create(obj);
  }
  const sa = `${release}-ramp`;
  const kubeconfig = await tokenKubeconfig(ctrlNs, sa, join(cluster().dir, `${release}.kubeconfig`));
  const secret = (ns: string, name: string, access: string, data: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: ns, labels: { "ramp.dev/secret-access": access } },
    stringData: data,
  });
  await kube().create(secret(ctrlNs, "hook", "notifications", { "signing-key": "s3cret" }));
  await kube().create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "ramp-notifications", namespace: ctrlNs },
    data: {
      destinations: stringify({
        webhook: { hook: { url: hookUrl, signingKeyFrom: { secretKeyRef: { name: "hook", key: "signing-key" } } } },
      }),
      "on-step-completed": "webhook:hook",
      "on-completed": "webhook:hook",
    },
  });
  await kube().create(secret(appNs, "prometheus", "analysis", { token: "t0ken" }));
  await kube().create(service(appNs, `${NAME}-stable`, NAME));
  await kube().create(service(appNs, `${NAME}-canary`, NAME));
  await kube().create({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: NAME, namespace: appNs },
    spec: { rules: [{ backendRefs: [{ name: `${NAME}-stable`, port: 80 }] }] },
  });
  await kube().create({
    apiVersion: "ramp.dev/v1alpha1",
    kind: "AnalysisTemplate",
    metadata: { name: "requests", namespace: appNs },
    spec: {
      args: [{ name: "token", valueFrom: { secretKeyRef: { name: "prometheus", key: "token" } } }],
      metrics: [
        {
          name: "requests",
          successCondition: "result >= 0",
          provider: {
            prometheus: {
              query: `sum(rate(http_requests_total{namespace="${appNs}"}[30s])) or vector(0)`,
              headers: [{ key: "Authorization", value: "Bearer {{args.token}}" }],
            },
          },
        },
        {
          // A Job (create, watch by name, delete): its pod is ended by kwok (src/dev/kwok-stages.ts).
          name: "smoke",
          provider: {
            job: {
              timeout: "2m",
              spec: {
                template: {
                  metadata: { annotations: { "ramp.dev/kwok-exit": "0" } },
                  spec: { restartPolicy: "Never", containers: [{ name: "smoke", image: "smoke:1" }] },
                },
              },
            },
          },
        },
      ],
    },
  });
  const controller = await startController(
    [
      "--instance-id",
      instanceId,
      "--leader-election-namespace",
      ctrlNs,
      "--prometheus-url",
      cluster().prometheusUrl,
      "--job-provider",
    ],
    { kubeconfig },
  );
  return { release, ctrlNs, appNs, instanceId, controller };
}

/** The canary, step by step; `done()` ends it early (the failure a test waits for was seen). */
async function drive(s: Setup, done: () => Promise<boolean> = async () => false): Promise<void> {
  const spec = {
    replicas: 2,
    strategy: {
      canary: {
        stableService: `${NAME}-stable`,
        canaryService: `${NAME}-canary`,
        scaleDownDelaySeconds: 1,
        trafficRouting: { gatewayAPI: { httpRoute: NAME } },
        steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "requests" }] } }],
      },
    },
  };
  await kube().create(rollout(s.appNs, NAME, spec, { "ramp.dev/controller-instance-id": s.instanceId }));
  const until = (what: string, check: () => Promise<boolean>, ms: number) =>
    eventually(what, async () => (await done()) || check(), ms).then(() => done());
  const healthy = async (image: string) => {
    const r = await getRollout(s.appNs, NAME);
    const status = r.status;
    return (
      status?.phase === "Healthy" &&
      status.observedGeneration === r.metadata.generation &&
      status.stableRS === status.currentPodHash &&
      JSON.stringify(r.spec.template).includes(image)
    );
  };
  if (await until("the first revision healthy", () => healthy(`${NAME}:1`), 45_000)) return;
  await setImage(s.appNs, NAME, `${NAME}:2`);
  if (await until("the canary promoted", () => healthy(`${NAME}:2`), 90_000)) return;
  const at = new Date(Date.now() + 1000).toISOString().replace(/\.\d+Z$/, "Z");
  await kube().patch("ramp.dev/v1alpha1", "Rollout", NAME, s.appNs, { spec: { restartAt: at } });
  await until("the restart done", async () => (await getRollout(s.appNs, NAME)).status?.restartedAt === at, 60_000);
}

/** Everything the controller said: its log, the Rollout's status, the AnalysisRuns' and the Events. */
async function evidence(s: Setup): Promise<string> {
  const runs = await kube().list("ramp.dev/v1alpha1", "AnalysisRun", s.appNs);
  const events = await kube().list<KubeObject & { message?: string }>("v1", "Event", s.appNs);
  const r = await getRollout(s.appNs, NAME).catch(() => undefined);
  return [
    s.controller.output(),
    JSON.stringify(r?.status ?? {}),
    ...runs.map((x) => JSON.stringify(x.status ?? {})),
    ...events.map((e) => e.message ?? ""),
  ].join("\n");
}

const tearDown = async (s: Setup | undefined) => {
  await s?.controller.stop();
  for (const kind of ["ClusterRole", "ClusterRoleBinding"]) {
    if (s) await kube().delete("rbac.authorization.k8s.io/v1", kind, `${s.release}-ramp`);
  }
};

// The first run on a machine builds helm from the Go module proxy (minutes on 2 cores).
beforeAll(() => helmBinary(), 900_000);

describe("the chart's RBAC", () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hook = await receiver();
  });
  afterAll(async () => {
    await hook?.close();
  });

  it("is enough: a routed, analysed, notified canary and a restart complete with no 403 anywhere", async () => {
    let s: Setup | undefined;
    try {
      s = await setUp(hook.url);
      await drive(s);
      const done = await getRollout(s.appNs, NAME);
      expect(done.status?.phase).toBe("Healthy");
      const route = await kube().get<KubeObject & { spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] } }>(
        "gateway.networking.k8s.io/v1",
        "HTTPRoute",
        NAME,
        s.appNs,
      );
      expect(route.spec.rules[0]?.backendRefs.find((b) => b.name === `${NAME}-stable`)?.weight).toBe(100);
      const runs = await kube().list<KubeObject & { status?: { phase?: string } }>("ramp.dev/v1alpha1", "AnalysisRun", s.appNs);
      expect(runs.map((r) => r.status?.phase)).toEqual(["Successful"]);
      await eventually("the completed notification", async () => hook.events.includes("completed"), 30_000);
      expect((await fetch(`${s.controller.url}/readyz`)).status).toBe(200);
      const said = await evidence(s);
      expect(said).not.toMatch(/forbidden|\b403\b/i);
    } finally {
      await tearDown(s);
    }
  }, 240_000);
});

// Every rule the controller's code needs, with what it is refused without it. The other routers'
// rules (Istio, NGINX, SMI) are not used by this canary; they follow the same read-change-write path.
interface Scenario {
  name: string;
  drop: (rules: Rule[]) => Rule[];
  /** What the controller must say it was refused. */
  refused: RegExp;
  /** Whether its readiness must say so too (a cache it cannot keep current). */
  unready?: boolean;
}

const INFORMED = [
  "rollouts",
  "analysisruns",
  "analysistemplates",
  "clusteranalysistemplates",
  "replicasets",
  "controllerrevisions",
  "deployments",
  "services",
];

const RULES: Scenario[] = [
  ["rollouts", "ramp.dev"],
  ["rollouts/status", "ramp.dev"],
  ["analysisruns", "ramp.dev"],
  ["analysisruns/status", "ramp.dev"],
  ["analysistemplates", "ramp.dev"],
  ["clusteranalysistemplates", "ramp.dev"],
  ["replicasets", "apps"],
  ["controllerrevisions", "apps"],
  ["deployments", "apps"],
  ["services", ""],
  ["pods", ""],
  ["events", ""],
  ["configmaps", ""],
  ["secrets", ""],
  ["httproutes", "gateway.networking.k8s.io"],
  ["endpointslices", "discovery.k8s.io"],
  ["jobs", "batch"],
]
  .map(
    ([resource, group]): Scenario => ({
      name: `without ${group || "core"} ${resource}`,
      drop: (rules: Rule[]) =>
        rules.filter((r) => !(r.apiGroups.includes(group as string) && r.resources.includes(resource as string))),
      refused: new RegExp(`cannot \\w+ resource "${(resource as string).replace("/", "\\/")}"`),
      // Caches (the routers' too, started by a Rollout's first read): a refused list leaves the
      // leader unready, naming it.
      unready: INFORMED.includes(resource as string) || resource === "httproutes" || resource === "endpointslices",
    }),
  )
  .concat([
    {
      name: "without the Lease's create",
      drop: (rules) => rules.filter((r) => !(r.resources.includes("leases") && r.verbs.includes("create"))),
      refused: /cannot create resource "leases"/,
    },
    {
      name: "without the Lease's get and update",
      drop: (rules) => rules.filter((r) => !(r.resources.includes("leases") && r.verbs.includes("get"))),
      refused: /cannot get resource "leases"/,
    },
    {
      // The ClusterRole's list (for the outboxes) covers the settings' list; their watch is by name only.
      name: "without the settings ConfigMap watch",
      drop: (rules) => rules.filter((r) => !(r.resources.includes("configmaps") && r.resourceNames)),
      refused: /cannot watch resource "configmaps"/,
      unready: true,
    },
    {
      // The informer lists fine and its watch is refused: once a silent stall, now a log line and readiness.
      name: "with rollouts listed but not watched",
      drop: (rules) =>
        rules.map((r) => (r.resources[0] === "rollouts" ? { ...r, verbs: r.verbs.filter((v) => v !== "watch") } : r)),
      refused: /cannot watch resource "rollouts"/,
      unready: true,
    },
  ]);

/** Controllers starting at once on 2 shared cores: a few at a time. */
const slots = { free: 2, waiting: [] as (() => void)[] };
async function inSlot<T>(work: () => Promise<T>): Promise<T> {
  if (slots.free > 0) slots.free--;
  else await new Promise<void>((resolve) => slots.waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free++;
  }
}

describe.concurrent("each rule of the chart's RBAC is needed", () => {
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    hook = await receiver();
  });
  afterAll(async () => {
    await hook?.close();
  });

  // it.for: concurrent tests poll with their own expect.
  it.for(RULES)(
    "$name: the controller says what it was refused and keeps running",
    { timeout: 600_000 },
    ({ drop, refused, unready }, { expect }) =>
      inSlot(async () => {
        let s: Setup | undefined;
        try {
          const setup = await setUp(hook.url, drop);
          s = setup;
          const seen = async () => refused.test(await evidence(setup));
          await drive(setup, seen);
          expect(await evidence(setup)).toMatch(refused);
          expect(setup.controller.child.exitCode).toBeNull();
          if (unready) {
            // A leader whose cache cannot be kept current says so to its readiness probe.
            await expect.poll(async () => (await fetch(`${setup.controller.url}/readyz`)).status, { timeout: 30_000 }).toBe(503);
            const answer = await fetch(`${setup.controller.url}/readyz`);
            expect(((await answer.json()) as { reason: string }).reason).toMatch(refused);
          }
        } finally {
          await tearDown(s);
        }
      }),
  );
});
