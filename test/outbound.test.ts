// The outbound door and Secret opt-in end to end: `ramp controller` as a process on the dev cluster,
// real local receivers that count what reaches them. One controller with the default policy (loopback
// denied, as in a real cluster), one that allows loopback but denies 127.0.0.2 explicitly.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRunStatus } from "../src/api/analysis.ts";
import type { KubeObject } from "../src/kube/client.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, eventReasons, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

type Run = KubeObject & { status?: AnalysisRunStatus };

/** Answers every request as `answer` says and remembers each request's URL. */
function receiver(host: string, answer: (res: import("node:http").ServerResponse) => void) {
  const urls: string[] = [];
  const server: Server = createServer((req, res) => {
    urls.push(req.url ?? "");
    req.resume();
    answer(res);
  });
  return {
    urls,
    url: () => `http://${host}:${(server.address() as AddressInfo).port}`,
    listen: async () => {
      server.listen(0, host);
      await once(server, "listening");
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

const ok = (res: import("node:http").ServerResponse) => res.writeHead(200).end();
/** A Prometheus API answer: one sample of value 1. */
const prometheusAnswer = (res: import("node:http").ServerResponse) =>
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [0, "1"] }] } }));

const controllerArgs = (ns: string) => ["--namespace", ns, "--leader-election-namespace", ns, "--no-notifications"];

const canaryWithGate = (url: string) => ({
  replicas: 1,
  strategy: {
    canary: {
      maxSurge: 1,
      maxUnavailable: 0,
      scaleDownDelaySeconds: 0,
      steps: [{ setWeight: 50 }, { gate: { name: "confirm", url, timeout: "2s", retries: 3, retryDelay: "1s" } }],
    },
  },
});

const analysisRun = (ns: string, name: string, prometheus: Record<string, unknown>, args: Record<string, unknown>[] = []) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisRun",
  metadata: { name, namespace: ns },
  // The first Error ends the run.
  spec: { args, metrics: [{ name: "m", successCondition: "result == 1.0", consecutiveErrorLimit: 0, provider: { prometheus } }] },
});

const finished = (ns: string, name: string) =>
  eventually(`${name} finished`, async () => {
    const r = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", name, ns);
    return r.status?.phase && !["Pending", "Running"].includes(r.status.phase) ? r.status : undefined;
  });

/** Starts at a healthy first revision, then rolls to v2 and waits for the gate's verdict. */
async function gateOutcome(ns: string, name: string, url: string) {
  await kube().create(rollout(ns, name, canaryWithGate(url)));
  await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy");
  await setImage(ns, name, `${name}:2`);
  return waitForRollout(ns, name, "paused by the gate", (s) => (s.pauseConditions ?? []).some((p) => p.reason === "GateFailed"));
}

describe("outbound policy: the default (loopback denied, as in a real cluster)", () => {
  let ns: string;
  let controller: ControllerProcess;
  const target = receiver("127.0.0.1", ok);
  const prometheus = receiver("127.0.0.1", prometheusAnswer);
  beforeAll(async () => {
    await Promise.all([target.listen(), prometheus.listen()]);
    ns = await namespace("outbound");
    controller = await startController(controllerArgs(ns), { allowLoopback: false });
  });
  afterAll(async () => {
    await controller?.stop();
    await Promise.all([target.close(), prometheus.close()]);
  });

  it("a gate to a loopback address ends Error DESTINATION_NOT_ALLOWED at once, with an Event, and nothing is sent", async () => {
    const paused = await gateOutcome(ns, "gated", `${target.url()}/confirm?token=t0ken`);
    expect(paused.canary?.currentGate).toMatchObject({ phase: "Error", code: "DESTINATION_NOT_ALLOWED", attempts: 1 });
    expect(paused.canary?.currentGate?.message).toContain(`${target.url()} is not an allowed destination: built-in: loopback`);
    expect(paused.canary?.currentGate?.message).not.toContain("t0ken");
    await eventually("the DestinationNotAllowed event", async () =>
      (await eventReasons(ns, "gated")).includes("DestinationNotAllowed"),
    );
    expect(target.urls).toEqual([]);
  }, 120_000);

  it("a Prometheus address outside the policy is never contacted: the measurement is Error DESTINATION_NOT_ALLOWED", async () => {
    await kube().create(analysisRun(ns, "prom", { address: prometheus.url(), query: "vector(1)" }));
    await kube().create(analysisRun(ns, "metadata", { address: "http://169.254.169.254/", query: "vector(1)" }));
    for (const [name, rule] of [
      ["prom", "built-in: loopback"],
      ["metadata", "built-in: cloud metadata address"],
    ]) {
      const status = await finished(ns, name as string);
      const m = status.metricResults?.[0]?.measurements?.[0];
      expect(status.phase, name).toBe("Error");
      expect(m?.phase).toBe("Error");
      expect(m?.message).toMatch(new RegExp(`^DESTINATION_NOT_ALLOWED: .*is not an allowed destination: ${rule}`));
      await eventually(`the DestinationNotAllowed event of ${name}`, async () =>
        (await eventReasons(ns, name as string)).includes("DestinationNotAllowed"),
      );
    }
    expect(prometheus.urls).toEqual([]);
  });
});

describe("outbound policy: loopback allowed, 127.0.0.2 denied; Secrets opt in", () => {
  let ns: string;
  let controller: ControllerProcess;
  const denied = receiver("127.0.0.2", ok);
  const redirector = receiver("127.0.0.1", (res) => res.writeHead(307, { location: `${denied.url()}/moved` }).end());
  const prometheus = receiver("127.0.0.1", prometheusAnswer);
  beforeAll(async () => {
    await Promise.all([denied.listen(), redirector.listen(), prometheus.listen()]);
    ns = await namespace("outbound");
    const secret = (name: string, labels: Record<string, string>) =>
      kube().create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: ns, labels },
        stringData: { token: "s3cr3t-token\n" },
      });
    await secret("opted-in", { "ramp.dev/secret-access": "analysis" });
    await secret("for-notifications", { "ramp.dev/secret-access": "notifications" });
    await secret("plain", {});
    controller = await startController([...controllerArgs(ns), "--outbound-deny", "127.0.0.2"]);
  });
  afterAll(async () => {
    await controller?.stop();
    await Promise.all([denied.close(), redirector.close(), prometheus.close()]);
  });

  it("a redirect to a denied address is refused and the denied receiver counts zero requests", async () => {
    const paused = await gateOutcome(ns, "redirected", `${redirector.url()}/confirm`);
    expect(paused.canary?.currentGate).toMatchObject({ phase: "Error", code: "DESTINATION_NOT_ALLOWED", attempts: 1 });
    expect(paused.canary?.currentGate?.message).toContain(
      `${denied.url()} is not an allowed destination: --outbound-deny 127.0.0.2`,
    );
    expect(redirector.urls).toEqual(["/confirm"]);
    expect(denied.urls).toEqual([]);
  }, 120_000);

  it("a Secret not opted in to analysis is never read: the run ends Error SECRET_NOT_OPTED_IN and Prometheus gets nothing", async () => {
    const arg = (secret: string) => [{ name: "token", valueFrom: { secretKeyRef: { name: secret, key: "token" } } }];
    const query = 'vector(1) unless on() up{token="{{args.token}}"}';
    await kube().create(analysisRun(ns, "not-opted", { address: prometheus.url(), query }, arg("plain")));
    await kube().create(analysisRun(ns, "other-use", { address: prometheus.url(), query }, arg("for-notifications")));
    for (const name of ["not-opted", "other-use"]) {
      const status = await finished(ns, name);
      expect(status.phase).toBe("Error");
      expect(status.message).toMatch(
        /argument "token": SECRET_NOT_OPTED_IN: Secret .* has not opted in to analysis: label it ramp\.dev\/secret-access=analysis/,
      );
    }
    expect(prometheus.urls).toEqual([]);
  });

  it("a ClusterAnalysisTemplate gets no tenant Secret it was not granted: its secretKeyRef resolves in the Rollout's namespace, unread without the label", async () => {
    // The same name opted in elsewhere (the platform team's namespace) must not stand in for it.
    const platform = await namespace("platform");
    const stringData = { token: "platform-s3cret" };
    const labels = { "ramp.dev/secret-access": "analysis" };
    await kube().create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "shared-token", namespace: platform, labels },
      stringData,
    });
    await kube().create({ apiVersion: "v1", kind: "Secret", metadata: { name: "shared-token", namespace: ns }, stringData });
    const template = `tenant-secret-${ns}`;
    await kube().create({
      apiVersion: "ramp.dev/v1alpha1",
      kind: "ClusterAnalysisTemplate",
      metadata: { name: template },
      spec: {
        args: [{ name: "token", valueFrom: { secretKeyRef: { name: "shared-token", key: "token" } } }],
        metrics: [
          {
            name: "m",
            successCondition: "result == 1.0",
            consecutiveErrorLimit: 0,
            provider: { prometheus: { address: prometheus.url(), query: 'vector(1) unless on() up{t="{{args.token}}"}' } },
          },
        ],
      },
    });
    try {
      const before = prometheus.urls.length;
      const analysis = { templates: [{ templateName: template, clusterScope: true }] };
      await kube().create(
        rollout(ns, "cluster-template", {
          replicas: 1,
          strategy: { canary: { maxSurge: 1, maxUnavailable: 0, steps: [{ setWeight: 50 }, { analysis }] } },
        }),
      );
      await waitForRollout(ns, "cluster-template", "first revision healthy", (s) => s.phase === "Healthy");
      await setImage(ns, "cluster-template", "cluster-template:2");
      const status = await eventually("the step's run ends", async () => {
        const runs = await kube().list<Run>("ramp.dev/v1alpha1", "AnalysisRun", ns);
        const run = runs.find((r) => r.metadata.name?.startsWith("cluster-template-"));
        return run?.status?.phase && !["Pending", "Running"].includes(run.status.phase) ? run.status : undefined;
      });
      expect(status.phase).toBe("Error");
      expect(status.message).toMatch(new RegExp(`SECRET_NOT_OPTED_IN: Secret ${ns}/shared-token has not opted in to analysis`));
      expect(prometheus.urls.slice(before)).toEqual([]);
      expect(JSON.stringify(status)).not.toContain("platform-s3cret");
    } finally {
      await kube().delete("ramp.dev/v1alpha1", "ClusterAnalysisTemplate", template);
    }
  }, 120_000);

  it("an opted-in Secret is read, reaches Prometheus, and is masked in the status in its trimmed form", async () => {
    await kube().create(
      analysisRun(ns, "opted", { address: prometheus.url(), query: 'vector(1) unless on() up{token="{{args.token}}"}' }, [
        { name: "token", valueFrom: { secretKeyRef: { name: "opted-in", key: "token" } } },
      ]),
    );
    const status = await finished(ns, "opted");
    expect(status.phase).toBe("Successful");
    expect(prometheus.urls.some((u) => decodeURIComponent(u).includes("s3cr3t-token"))).toBe(true);
    expect(JSON.stringify(status)).not.toContain("s3cr3t-token");
  });
});
