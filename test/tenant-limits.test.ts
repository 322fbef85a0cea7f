// What a tenant's Rollout or AnalysisTemplate can no longer do to the controller: hold its event loop
// with a costly CEL condition (other Rollouts wait, the Lease lapses), or make it reconcile in a loop
// with a delay past what Node's timers hold.
import { describe, expect, it } from "vitest";
import type { AnalysisRunStatus } from "../src/api/analysis.ts";
import type { KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

type Lease = KubeObject & { spec: { holderIdentity?: string; renewTime?: string } };
type Run = KubeObject & { status?: AnalysisRunStatus };

const reconciles = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^ramp_reconcile_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
};

const literal = `[${Array.from({ length: 80 }, (_, i) => i).join(", ")}]`;
/** The condition: four nested all() over 80-element literals, about 26 s each unbounded. */
const COSTLY = `${literal}.all(a, ${literal}.all(b, ${literal}.all(c, ${literal}.all(d, a + b + c + d >= 0))))`;

describe("tenant limits", () => {
  it("a costly condition ends Error within its budget while another Rollout reconciles and the Lease is renewed", async () => {
    const ns = await namespace("cel");
    const controller = await startController([
      ...["--namespace", ns, "--leader-election-namespace", ns, "--prometheus-url", cluster().prometheusUrl],
      // A loop held for more than 6 s would lose the Lease (unbounded, one evaluation holds it 26 s);
      // generous because other tests share the 2 cores.
      ...["--lease-duration", "8s", "--renew-deadline", "6s", "--retry-period", "500ms", "--identity", "cel-test"],
    ]);
    try {
      const lease = () => kube().get<Lease>("coordination.k8s.io/v1", "Lease", "ramp-controller", ns);
      await eventually("the controller leads", async () => (await lease()).spec.holderIdentity === "cel-test");
      await kube().create(
        rollout(ns, "other", {
          replicas: 2,
          strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: "1s" } }] } },
        }),
      );
      await waitForRollout(ns, "other", "healthy", (s) => s.phase === "Healthy");

      const started = Date.now();
      await kube().create({
        apiVersion: "ramp.dev/v1alpha1",
        kind: "AnalysisRun",
        metadata: { name: "costly", namespace: ns },
        spec: {
          // Measured every second, six errors before the metric gives up: several costly evaluations.
          metrics: [
            {
              name: "costly",
              interval: "1s",
              count: 10,
              consecutiveErrorLimit: 5,
              successCondition: COSTLY,
              provider: { prometheus: { query: "vector(0)" } },
            },
          ],
        },
      });
      await setImage(ns, "other", "other:2");
      const renewals = new Set<string>();
      const ended = await eventually(
        "the costly run ends",
        async () => {
          if (controller.child.exitCode !== null) return { exited: controller.output().slice(-2000) };
          const held = await lease();
          if (held.spec.renewTime) renewals.add(held.spec.renewTime);
          const run = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", "costly", ns);
          return ["Successful", "Failed", "Inconclusive", "Error"].includes(run.status?.phase ?? "") ? run.status : undefined;
        },
        90_000,
      );
      if ("exited" in ended) throw new Error(`the controller exited:\n${ended.exited}`);
      expect((await lease()).spec.holderIdentity).toBe("cel-test");
      const seconds = (Date.now() - started) / 1000;
      const last = ended.metricResults?.[0]?.measurements?.at(-1);
      console.log(
        `costly run Error after ${seconds.toFixed(1)} s; ${renewals.size} Lease renewals seen; ${last?.message?.slice(-60)}`,
      );
      expect([ended.phase, ended.metricResults?.[0]]).toMatchObject(["Error", { phase: "Error", error: 6 }]);
      expect(last?.message).toMatch(
        /^CONDITION_BUDGET_EXCEEDED: successCondition: condition .* (exceeded its cost budget of 1000000|ran past its time limit of 1000 ms)$/,
      );
      // Six measurements a second or so apart, each stopped within about 1 s: generous for 2 shared cores.
      expect(seconds).toBeLessThan(60);
      // Renewed every 500 ms while the run was evaluated (polled every ~200 ms plus a request on a busy
      // machine): a held loop would show one or two.
      expect(renewals.size).toBeGreaterThanOrEqual(Math.floor(seconds / 3));
      await waitForRollout(
        ns,
        "other",
        "healthy at other:2 meanwhile",
        (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash,
        60_000,
      );
      expect(controller.child.exitCode).toBeNull();
    } finally {
      await controller.stop();
    }
  }, 180_000);

  it("a 600h pause and a 2,600,000 s progress deadline cause no more than a handful of reconciles per minute", async () => {
    const ns = await namespace("timers");
    const controller = await startController(["--namespace", ns, "--leader-election-namespace", ns]);
    try {
      await kube().create(
        rollout(ns, "long-pause", {
          replicas: 2,
          strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: "600h" } }] } },
        }),
      );
      await kube().create(
        rollout(ns, "long-deadline", {
          replicas: 2,
          progressDeadlineSeconds: 2_600_000,
          strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
        }),
      );
      for (const name of ["long-pause", "long-deadline"]) await waitForRollout(ns, name, "healthy", (s) => s.phase === "Healthy");
      for (const name of ["long-pause", "long-deadline"]) await setImage(ns, name, `${name}:2`);
      for (const name of ["long-pause", "long-deadline"]) {
        await waitForRollout(ns, name, "paused at 50%", (s) => s.phase === "Paused" && s.currentStepIndex === 1);
      }
      // Let the last status writes and pod updates settle, then count for a minute.
      // Quiet means no reconcile for a whole second: compare each count with the one a second before it
      // (a count taken once could only be matched again if nothing at all happened after it).
      let previous = { count: await reconciles(controller.url), at: Date.now() };
      await eventually(
        "a quiet second",
        async () => {
          if (Date.now() - previous.at < 1000) return undefined;
          const count = await reconciles(controller.url);
          const quiet = count === previous.count;
          previous = { count, at: Date.now() };
          return quiet || undefined;
        },
        60_000,
      );
      const before = await reconciles(controller.url);
      const started = Date.now();
      await eventually("a minute has passed", async () => Date.now() - started >= 60_000 || undefined, 70_000);
      const during = (await reconciles(controller.url)) - before;
      console.log(`reconciles in 60 s with a 600h pause and a 2,600,000 s deadline: ${during}`);
      expect(during).toBeLessThanOrEqual(6);
    } finally {
      await controller.stop();
    }
  }, 240_000);
});
