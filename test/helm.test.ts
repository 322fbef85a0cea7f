// The Helm chart, for real: the pinned helm lints it, renders exactly what deploy/ holds, installs it
// into the dev cluster (kwok runs the pods without containers) and upgrades it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { CHART, helm, helmBinary, RENDERINGS, renderDeploy } from "../scripts/helm.ts";
import type { KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";

interface Container {
  args: string[];
  env: unknown[];
  securityContext: unknown;
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  resources: { requests?: unknown; limits?: unknown };
}
/** The fields these tests read, of Deployments, ReplicaSets, PDBs and roles. */
type Obj = KubeObject & {
  spec?: {
    replicas?: number;
    minAvailable?: number;
    template: { spec: { serviceAccountName: string; securityContext: unknown; containers: Container[] } };
  };
  status?: { readyReplicas?: number; currentHealthy?: number };
  rules?: { resources: string[]; verbs: string[] }[];
};

const objects = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);

const template = async (...args: string[]) => objects(await helm(["template", "ramp", CHART, "-n", "ramp-system", ...args]));

const controllerRole = (objs: Obj[]) => objs.find((o) => o.kind === "ClusterRole" && o.metadata.name === "ramp") as Obj;
const granted = (role: Obj) => role.rules?.flatMap((r) => r.resources) ?? [];

// The first run on a machine builds helm from the Go module proxy (minutes on 2 cores).
beforeAll(() => helmBinary(), 900_000);

describe("the chart, offline", () => {
  it.each([
    { values: [] },
    { values: ["--set", "watchNamespace=apps", "--set", "serviceMonitor.enabled=true", "--set", "instanceId=blue"] },
    { values: ["--set", "notifications.config.on-completed=webhook:x", "--set", "replicas=1", "--set", "aggregateRoles=false"] },
    { values: ["--set", "dashboard.enabled=true", "--set", "watchNamespace=apps"] },
  ])("helm lint $values: no errors or warnings", async ({ values }) => {
    const out = await helm(["lint", "--strict", CHART, ...values]);
    expect(out).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it.each(RENDERINGS)("deploy/$file is the chart rendered (run `npm run gen:deploy` after changing the chart)", async (r) => {
    expect(readFileSync(new URL(`../deploy/${r.file}`, import.meta.url), "utf8")).toBe(await renderDeploy(r));
  });

  it("keeps the chart's version and appVersion (the image tag) at the package's version", () => {
    const version = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
    const chart = readFileSync(new URL("../deploy/chart/ramp/Chart.yaml", import.meta.url), "utf8");
    expect(chart).toContain(`\nversion: ${version}\n`);
    expect(chart).toContain(`\nappVersion: "${version}"\n`);
  });

  it.each([
    { router: "gatewayAPI", resources: ["httproutes", "grpcroutes", "referencegrants"] },
    { router: "istio", resources: ["virtualservices", "destinationrules"] },
    { router: "nginx", resources: ["ingresses"] },
    { router: "smi", resources: ["trafficsplits"] },
  ])("grants $router's objects only while routers.$router is true", async ({ router, resources }) => {
    const all = granted(controllerRole(await template()));
    const without = granted(controllerRole(await template("--set", `routers.${router}=false`)));
    for (const r of resources) {
      expect(all).toContain(r);
      expect(without).not.toContain(r);
    }
    expect(all.filter((r) => !without.includes(r)).sort()).toEqual([...resources].sort());
  });

  it("jobProvider.enabled (off by default) passes --job-provider and grants Jobs, and nothing otherwise", async () => {
    const args = (objs: Obj[]) => (objs.find((o) => o.kind === "Deployment") as Obj).spec?.template.spec.containers[0]?.args;
    const off = await template();
    const on = await template("--set", "jobProvider.enabled=true");
    expect(args(off)).not.toContain("--job-provider");
    expect(args(on)).toContain("--job-provider");
    expect(granted(controllerRole(off))).not.toContain("jobs");
    expect(granted(controllerRole(on))).toContain("jobs");
  });

  it("dashboard.enabled (off by default) passes --dashboard and grants the reviews and pods/events watch, and nothing otherwise", async () => {
    const args = (objs: Obj[]) => (objs.find((o) => o.kind === "Deployment") as Obj).spec?.template.spec.containers[0]?.args;
    const rules = (objs: Obj[]) => controllerRole(objs).rules ?? [];
    const off = await template();
    const on = await template("--set", "dashboard.enabled=true");
    expect(args(off)).not.toContain("--dashboard");
    expect(args(on)).toContain("--dashboard");
    expect(granted(controllerRole(off))).not.toContain("tokenreviews");
    expect(rules(on)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resources: ["tokenreviews"], verbs: ["create"] }),
        expect.objectContaining({ resources: ["subjectaccessreviews"], verbs: ["create"] }),
        expect.objectContaining({ resources: ["pods", "events"], verbs: ["list", "watch"] }),
      ]),
    );
    const namespaced = await template("--set", "dashboard.enabled=true", "--set", "watchNamespace=apps");
    // Reviews are cluster-scoped: the ClusterRole has them even when the rest is a Role.
    const clusterRules = namespaced.filter((o) => o.kind === "ClusterRole").flatMap((o) => o.rules ?? []);
    expect(clusterRules).toEqual(expect.arrayContaining([expect.objectContaining({ resources: ["tokenreviews"] })]));
  });

  it("never lets the controller list or watch Secrets", async () => {
    for (const role of (await template()).filter((o) => o.kind === "ClusterRole" || o.kind === "Role")) {
      for (const rule of role.rules ?? []) if (rule.resources.includes("secrets")) expect(rule.verbs).toEqual(["get"]);
    }
  });

  it("a namespace-scoped install grants Roles in the watched namespace and reads only ClusterAnalysisTemplates cluster-wide", async () => {
    const objs = await template("--set", "watchNamespace=apps");
    const role = objs.find((o) => o.kind === "Role" && o.metadata.namespace === "apps") as Obj;
    expect(granted(role)).toContain("rollouts");
    const aggregated = (o: Obj) =>
      Object.keys(o.metadata.labels ?? {}).some((k) => k.startsWith("rbac.authorization.k8s.io/aggregate-to-"));
    const clusterRoles = objs.filter((o) => o.kind === "ClusterRole" && !aggregated(o));
    expect(clusterRoles.flatMap(granted)).toEqual(["clusteranalysistemplates"]);
    const args = (objs.find((o) => o.kind === "Deployment") as Obj).spec?.template.spec.containers[0]?.args;
    expect(args).toContain("--namespace=apps");
  });
});

describe("the chart, installed", () => {
  const release = `ramp-${randomBytes(3).toString("hex")}`;
  let ns: string;
  const kubeconfig = () => ["--kubeconfig", cluster().kubeconfig];
  const deployment = () => kube().get<Obj>("apps/v1", "Deployment", release, ns);

  beforeAll(async () => {
    ns = await namespace("helm");
    await helm(["install", release, CHART, "-n", ns, ...kubeconfig(), "--wait", "--timeout", "3m"]);
  }, 240_000);
  afterAll(async () => {
    if (ns) await helm(["uninstall", release, "-n", ns, ...kubeconfig(), "--wait"]).catch(() => {});
  });

  it("creates every object the chart renders, as rendered", async () => {
    const rendered = objects(await helm(["template", release, CHART, "-n", ns]));
    expect(rendered.map((o) => o.kind).sort()).toEqual([
      "ClusterRole",
      "ClusterRole",
      "ClusterRole",
      "ClusterRoleBinding",
      "Deployment",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Service",
      "ServiceAccount",
    ]);
    for (const want of rendered) {
      const got = await kube().get<Obj>(want.apiVersion, want.kind, want.metadata.name as string, want.metadata.namespace);
      expect(got.metadata.labels, `${want.kind}/${want.metadata.name}`).toMatchObject(want.metadata.labels ?? {});
      if (want.rules) expect(got.rules, `${want.kind}/${want.metadata.name}`).toEqual(want.rules);
    }
    const dep = await deployment();
    const pod = dep.spec?.template.spec as NonNullable<Obj["spec"]>["template"]["spec"];
    expect(dep.spec?.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(release);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const c = pod.containers[0] as Container;
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.livenessProbe.httpGet.path).toBe("/healthz");
    expect(c.readinessProbe.httpGet.path).toBe("/readyz");
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    expect(c.args.slice(0, 3)).toEqual(["controller", "--metrics-host=0.0.0.0", "--metrics-port=8090"]);
    expect(c.env).toContainEqual({
      name: "POD_NAMESPACE",
      valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
    });
    // kwok runs the pods without containers: Running and Ready, as the Deployment reports.
    expect(dep.status?.readyReplicas).toBe(2);
    // The dev cluster runs no disruption controller: the PDB's spec is what there is to see.
    const pdb = await kube().get<Obj>("policy/v1", "PodDisruptionBudget", release, ns);
    expect(pdb.spec?.minAvailable).toBe(1);
  });

  it("gives whoever can edit a namespace promote/abort/retry (rollouts/status) through the built-in roles", async () => {
    const user = `alice-${release}`;
    const bind = (role: string, who: string) =>
      kube().create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: `${who}-${role}`, namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: who }],
      });
    await bind("edit", user);
    await bind("view", `${user}-viewer`);
    const allowed = async (who: string, verb: string, resource: string, subresource = "") => {
      const review = await kube().create<KubeObject & { status?: { allowed: boolean } }>({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        metadata: {},
        spec: { user: who, resourceAttributes: { namespace: ns, verb, group: "ramp.dev", resource, subresource } },
      } as KubeObject);
      return review.status?.allowed === true;
    };
    // The aggregation controller folds Ramp's roles into edit and view shortly after they exist.
    await eventually("edit may patch rollouts/status", () => allowed(user, "patch", "rollouts", "status"));
    expect(await allowed(user, "patch", "rollouts")).toBe(true);
    expect(await allowed(user, "create", "analysistemplates")).toBe(true);
    expect(await allowed(`${user}-viewer`, "list", "rollouts")).toBe(true);
    expect(await allowed(`${user}-viewer`, "get", "analysisruns")).toBe(true);
    expect(await allowed(`${user}-viewer`, "patch", "rollouts", "status")).toBe(false);
  });

  it("helm upgrade with a changed value rolls the Deployment to a new ReplicaSet", async () => {
    const before = await deployment();
    const replicaSets = async () =>
      (await kube().list<Obj>("apps/v1", "ReplicaSet", ns)).filter(
        (rs) => rs.metadata.ownerReferences && JSON.stringify(rs.metadata.ownerReferences).includes(`"name":"${release}"`),
      );
    const oldHashes = (await replicaSets()).map((rs) => rs.metadata.labels?.["pod-template-hash"]);
    await helm([
      "upgrade",
      release,
      CHART,
      "-n",
      ns,
      ...kubeconfig(),
      "--set",
      "extraArgs={--workers=8}",
      "--wait",
      "--timeout",
      "3m",
    ]);
    const after = await deployment();
    expect(after.metadata.generation).toBeGreaterThan(before.metadata.generation as number);
    expect(after.spec?.template.spec.containers[0]?.args).toContain("--workers=8");
    const fresh = await eventually(
      "a new ReplicaSet with both pods ready",
      async () =>
        (await replicaSets()).find(
          (rs) => !oldHashes.includes(rs.metadata.labels?.["pod-template-hash"]) && rs.status?.readyReplicas === 2,
        ),
      60_000,
    );
    expect(fresh.spec?.template.spec.containers[0]?.args).toContain("--workers=8");
  }, 240_000);
});
