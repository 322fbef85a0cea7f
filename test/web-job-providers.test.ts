// The web and job metric providers end to end: `ramp controller` as a process on the dev cluster.
// web: a real local HTTP receiver (127.0.0.1, allowed by --outbound-allow-loopback) answering JSON,
// a URL the outbound policy refuses, a header from a Secret that opted in and one that did not.
// job: real Jobs run by the cluster's Job controller, their pods ended by kwok (the annotation
// ramp.dev/kwok-exit: "0" succeeds, "1" fails, none runs on), each Job removed once measured.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRunStatus } from "../src/api/analysis.ts";
import { isNotFound, type KubeError, type KubeObject } from "../src/kube/client.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, startController } from "./rollouts.ts";

type Run = KubeObject & { status?: AnalysisRunStatus };
type Measurement = NonNullable<NonNullable<AnalysisRunStatus["metricResults"]>[number]["measurements"]>[number];

const SECRET = "s3cret-token-value";

const analysisRun = (ns: string, name: string, metric: Record<string, unknown>) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisRun",
  metadata: { name, namespace: ns },
  spec: { metrics: [{ name: "m", consecutiveErrorLimit: 0, ...metric }] },
});

/** The run once it has ended, and its one measurement. Generous: 2 cores shared by many tests. */
async function finished(ns: string, name: string, timeoutMs = 90_000): Promise<{ status: AnalysisRunStatus; m: Measurement }> {
  const status = await eventually(
    `${name} finished`,
    async () => {
      const r = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", name, ns);
      return r.status?.phase && !["Pending", "Running"].includes(r.status.phase) ? r.status : undefined;
    },
    timeoutMs,
  );
  return { status, m: status.metricResults?.[0]?.measurements?.at(-1) as Measurement };
}

/** Answers GET /status with JSON, POST /echo with what it was sent, /private only with the token. */
function receiver() {
  const seen: { url: string; authorization?: string }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (req.url === "/status") return json(200, { data: { ok: true, errorRate: "0.02" } });
      if (req.url === "/echo" && req.method === "POST") return json(200, { got: JSON.parse(body) });
      if (req.url === "/private")
        return req.headers.authorization === `Bearer ${SECRET}` ? json(200, { ok: 1 }) : json(401, { error: "no" });
      return json(404, {});
    });
  });
  return {
    seen,
    url: (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    listen: async () => {
      server.listen(0, "127.0.0.1");
      await once(server, "listening");
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

const jobSpec = (exit: string | undefined) => ({
  backoffLimit: 0,
  template: {
    metadata: exit === undefined ? {} : { annotations: { "ramp.dev/kwok-exit": exit } },
    spec: { restartPolicy: "Never", containers: [{ name: "check", image: "example.com/smoke:1" }] },
  },
});

/** Jobs of the run still there (by the label the provider puts on them). */
async function jobsOf(ns: string, name: string): Promise<KubeObject[]> {
  const r = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", name, ns);
  const uid = (r.metadata as { uid?: string }).uid;
  return kube().list("batch/v1", "Job", ns, `ramp.dev/analysis-run-uid=${uid}`);
}

describe("web and job metric providers", () => {
  let ns: string;
  let controller: ControllerProcess;
  const http = receiver();
  beforeAll(async () => {
    ns = await namespace("webjob");
    await http.listen();
    await kube().create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "opted-in", namespace: ns, labels: { "ramp.dev/secret-access": "analysis" } },
      stringData: { token: `Bearer ${SECRET}` },
    });
    await kube().create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "private", namespace: ns },
      stringData: { token: `Bearer ${SECRET}` },
    });
    controller = await startController(["--namespace", ns, "--no-leader-elect", "--no-notifications", "--job-provider"]);
  }, 120_000);
  afterAll(async () => {
    await controller?.stop();
    await http.close();
  });

  it("web: a JSON answer's boolean passes the condition, a numeric string fails it", async () => {
    await kube().create(
      analysisRun(ns, "web-ok", {
        successCondition: "result == 1.0",
        provider: { web: { url: http.url("/status"), jsonPath: "{$.data.ok}" } },
      }),
    );
    await kube().create(
      analysisRun(ns, "web-bad", {
        successCondition: "result < 0.01",
        provider: { web: { url: http.url("/status"), jsonPath: "$.data.errorRate", timeout: "5s" } },
      }),
    );
    const ok = await finished(ns, "web-ok");
    expect(ok.status, JSON.stringify(ok.status)).toMatchObject({ phase: "Successful" });
    expect(ok.m).toMatchObject({ phase: "Successful", value: "1", metadata: { status: "200", jsonPath: "{$.data.ok}" } });
    const bad = await finished(ns, "web-bad");
    expect(bad.status, JSON.stringify(bad.status)).toMatchObject({ phase: "Failed" });
    expect(bad.m).toMatchObject({ phase: "Failed", value: "0.02" });
  });

  it("web: POSTs its body and reads the answer", async () => {
    await kube().create(
      analysisRun(ns, "web-post", {
        successCondition: "result == 42.0",
        provider: { web: { url: http.url("/echo"), method: "POST", body: '{"n": 42}', jsonPath: "$.got.n" } },
      }),
    );
    const { status, m } = await finished(ns, "web-post");
    expect(status.phase).toBe("Successful");
    expect(m.value).toBe("42");
  });

  it("web: a URL the outbound policy refuses is an Error with DESTINATION_NOT_ALLOWED, and nothing is sent", async () => {
    await kube().create(
      analysisRun(ns, "web-refused", {
        successCondition: "result == 1.0",
        provider: { web: { url: "http://169.254.169.254/latest/meta-data" } },
      }),
    );
    const { status, m } = await finished(ns, "web-refused");
    expect(status.phase).toBe("Error");
    expect(m.phase).toBe("Error");
    expect(m.message).toMatch(/^DESTINATION_NOT_ALLOWED: .*cloud metadata/);
  });

  it("web: a header from a Secret that opted in is sent and never shown; one that did not opt in is never read", async () => {
    const header = (secret: string) => [{ key: "Authorization", valueFrom: { secretKeyRef: { name: secret, key: "token" } } }];
    await kube().create(
      analysisRun(ns, "web-secret", {
        successCondition: "result == 1.0",
        provider: { web: { url: http.url("/private"), jsonPath: "$.ok", headers: header("opted-in") } },
      }),
    );
    const opted = await finished(ns, "web-secret");
    expect(opted.status, JSON.stringify(opted.status)).toMatchObject({ phase: "Successful" });
    expect(JSON.stringify(opted.status)).not.toContain(SECRET);
    expect(http.seen.filter((s) => s.url === "/private")).toEqual([{ url: "/private", authorization: `Bearer ${SECRET}` }]);

    await kube().create(
      analysisRun(ns, "web-not-opted", {
        successCondition: "result == 1.0",
        provider: { web: { url: http.url("/private"), jsonPath: "$.ok", headers: header("private") } },
      }),
    );
    const refused = await finished(ns, "web-not-opted");
    expect(refused.status, JSON.stringify(refused.status)).toMatchObject({ phase: "Error" });
    expect(refused.m.message).toMatch(/^SECRET_NOT_OPTED_IN: .*ramp\.dev\/secret-access=analysis/);
    expect(http.seen.filter((s) => s.url === "/private")).toHaveLength(1);
  });

  it("job: a Job that completes is Successful, one that fails is Failed, and both Jobs are removed", async () => {
    await kube().create(analysisRun(ns, "job-ok", { provider: { job: { spec: jobSpec("0"), timeout: "2m" } } }));
    await kube().create(analysisRun(ns, "job-fail", { provider: { job: { spec: jobSpec("1"), timeout: "2m" } } }));
    const ok = await finished(ns, "job-ok", 180_000);
    expect(ok.status, JSON.stringify(ok.status)).toMatchObject({ phase: "Successful" });
    expect(ok.m.phase).toBe("Successful");
    expect(ok.m.metadata?.job).toMatch(/^job-ok-m-1-[0-9a-f]{8}$/);
    const failed = await finished(ns, "job-fail", 180_000);
    expect(failed.status, JSON.stringify(failed.status)).toMatchObject({ phase: "Failed" });
    expect(failed.m).toMatchObject({ phase: "Failed", metadata: { reason: "BackoffLimitExceeded" } });
    for (const name of ["job-ok", "job-fail"]) {
      await eventually(`${name}'s Job removed`, async () => (await jobsOf(ns, name)).length === 0, 60_000);
    }
    const job = ok.m.metadata?.job as string;
    await expect(kube().get("batch/v1", "Job", job, ns)).rejects.toSatisfy(isNotFound);
    // Its pods go with it (deleted in the background by the garbage collector).
    for (const m of [ok.m, failed.m]) {
      const selector = `batch.kubernetes.io/job-name=${m.metadata?.job}`;
      await eventually(
        `${m.metadata?.job}'s pods removed`,
        async () => (await kube().list("v1", "Pod", ns, selector)).length === 0,
        60_000,
      );
    }
  }, 400_000);

  it("job: terminate stops the wait for a Job at once, and the Job is removed", async () => {
    await kube().create(analysisRun(ns, "job-stop", { provider: { job: { spec: jobSpec(undefined), timeout: "30m" } } }));
    await eventually("job-stop's Job created", async () => (await jobsOf(ns, "job-stop")).length === 1, 60_000);
    await kube().patch("ramp.dev/v1alpha1", "AnalysisRun", "job-stop", ns, { spec: { terminate: true } });
    const { status } = await finished(ns, "job-stop", 60_000);
    expect(status, JSON.stringify(status)).toMatchObject({ phase: "Successful", message: expect.stringMatching(/terminated/) });
    await eventually("job-stop's Job removed", async () => (await jobsOf(ns, "job-stop")).length === 0, 60_000);
  }, 300_000);

  it("job: a Job that runs past its timeout is failed by its deadline and removed", async () => {
    await kube().create(analysisRun(ns, "job-slow", { provider: { job: { spec: jobSpec(undefined), timeout: "5s" } } }));
    const { status, m } = await finished(ns, "job-slow", 180_000);
    expect(status, JSON.stringify(status)).toMatchObject({ phase: "Failed" });
    expect(m).toMatchObject({ phase: "Failed", metadata: { reason: "DeadlineExceeded" } });
    await eventually("job-slow's Job removed", async () => (await jobsOf(ns, "job-slow")).length === 0, 60_000);
  }, 300_000);

  it.each([
    ["hostNetwork", { hostNetwork: true }, "template.spec.hostNetwork", "hostNetwork is not allowed"],
    [
      "another ServiceAccount",
      { serviceAccountName: "ramp-controller" },
      "template.spec.serviceAccountName",
      "serviceAccountName may only be default",
    ],
    [
      "a hostPath volume",
      { volumes: [{ name: "root", hostPath: { path: "/" } }] },
      "template.spec.volumes[0].hostPath",
      "hostPath volumes are not allowed",
    ],
  ])("job: the apiserver refuses a pod with %s, naming the field", async (_what, podFields, field, message) => {
    const spec = jobSpec("0");
    const run = analysisRun(ns, "job-refused", {
      provider: { job: { spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, ...podFields } } } } },
    });
    const err = await kube()
      .create(run)
      .catch((e: unknown) => e);
    expect((err as KubeError).status, String(err)).toBe(422);
    expect((err as KubeError).message).toContain(`spec.metrics[0].provider.job.spec.${field}`);
    expect((err as KubeError).message).toContain(message);
  });
});
