// The AnalysisRun controller on its own, against the dev cluster's real Prometheus: arguments from a
// Secret, terminate, and a run whose argument cannot be read ending in Error with the reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AnalysisRunStatus } from "../src/api/analysis.ts";
import type { KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, startController } from "./rollouts.ts";

type Run = KubeObject & { status?: AnalysisRunStatus };

const run = (ns: string, name: string, metric: Record<string, unknown>, args: Record<string, unknown>[] = []) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisRun",
  metadata: { name, namespace: ns },
  spec: { args, metrics: [{ name: "m", ...metric }] },
});

const finished = (ns: string, name: string) =>
  eventually(
    `${name} finished`,
    async () => {
      const r = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", name, ns);
      return r.status?.phase && !["Pending", "Running"].includes(r.status.phase) ? r.status : undefined;
    },
    60_000,
  );

describe("AnalysisRun controller", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("runs");
    await kube().create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "limits", namespace: ns, labels: { "ramp.dev/secret-access": "analysis" } },
      stringData: { max: "3" },
    });
    controller = await startController(["--namespace", ns, "--no-leader-elect", "--prometheus-url", cluster().prometheusUrl]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it("reads an argument from a Secret, measures, and never shows the secret", async () => {
    await kube().create(
      run(ns, "secret-arg", { successCondition: "result == 3.0", provider: { prometheus: { query: "vector({{args.max}})" } } }, [
        { name: "max", valueFrom: { secretKeyRef: { name: "limits", key: "max" } } },
      ]),
    );
    const status = await finished(ns, "secret-arg");
    expect(status.phase).toBe("Successful");
    expect(status.metricResults?.[0]?.measurements?.[0]?.value).toBe("3");
    expect(JSON.stringify(status.metricResults?.[0]?.measurements?.[0]?.metadata ?? {})).not.toContain("vector(3)");
  });

  it("an argument that cannot be read ends the run in Error, naming it", async () => {
    await kube().create(
      run(
        ns,
        "missing-secret",
        { successCondition: "result > 0.0", provider: { prometheus: { query: "vector({{args.max}})" } } },
        [{ name: "max", valueFrom: { secretKeyRef: { name: "nope", key: "max" } } }],
      ),
    );
    const status = await finished(ns, "missing-secret");
    expect(status.phase).toBe("Error");
    expect(status.message).toMatch(/argument "max".*nope/);
  });

  it("terminate ends a run that would measure forever, with what it has", async () => {
    await kube().create(
      run(ns, "forever", { interval: "1s", successCondition: "result > 0.0", provider: { prometheus: { query: "vector(1)" } } }),
    );
    await eventually("a few measurements", async () => {
      const r = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", "forever", ns);
      return (r.status?.metricResults?.[0]?.count ?? 0) >= 3;
    });
    await kube().patch("ramp.dev/v1alpha1", "AnalysisRun", "forever", ns, { spec: { terminate: true } });
    const status = await finished(ns, "forever");
    expect(status.phase).toBe("Successful");
    expect(status.message).toMatch(/terminated/);
  });
});
