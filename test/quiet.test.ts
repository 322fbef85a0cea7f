// A settled controller is quiet: reconciles come from changes and from planned requeues, never from
// its own writes coming back through a watch. Counted from /metrics (ramp_reconcile_total). An idle
// one asks the apiserver nothing but its Lease's renewals and its watches' restarts, counted from
// its own request log (-v 6: the apiserver's metrics would count every other test's requests too).
import { describe, expect, it } from "vitest";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, reconciles, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

/** Reconciles counted over a window; the window is long enough to see a loop, whatever the machine. */
async function reconcilesOver(url: string, ms: number): Promise<number> {
  const before = await reconciles(url);
  await new Promise((r) => setTimeout(r, ms));
  return (await reconciles(url)) - before;
}

/** `leases`, `rollouts/status`: the resource (and subresource) of a REST path; discovery as its path. */
function resourceOf(path: string): string {
  const m = /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/[^/]+)?\/([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(path);
  return m ? `${m[1]}${m[2] ? `/${m[2]}` : ""}` : path;
}

/** The controller's requests over a window, as "VERB resource" with how many, from its -v 6 log. */
async function requestsOver(c: ControllerProcess, ms: number): Promise<Record<string, number>> {
  const from = c.output().length;
  await new Promise((r) => setTimeout(r, ms));
  const counts: Record<string, number> = {};
  for (const [, verb, href] of c
    .output()
    .slice(from)
    .matchAll(/ client\.ts\] (\w+) (\S+) /g)) {
    const key = `${verb} ${resourceOf(new URL(href as string).pathname)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** What an idle controller may ask: its Lease's renewals (a read and a write each retry period) and
 * its watches' restarts (each watch asks the apiserver to end it within half the request timeout,
 * so that a silent connection can be told from a dead one). */
const unexpected = (counts: Record<string, number>) => Object.keys(counts).filter((k) => !/^(GET|PUT) leases$|^WATCH /.test(k));

describe("an idle controller", () => {
  it("asks nothing but its Lease and its watches, with no Rollout and with settled ones, and still sees a settings edit", async () => {
    const ns = await namespace("idle");
    const c = await startController(["--namespace", ns, "--leader-election-namespace", ns, "--v", "6"]);
    try {
      // Ready says little of a standby: wait for it to lead, with its caches filled.
      await eventually(
        "the controller leading, its caches filled",
        async () => c.output().includes("leading as") && (await fetch(`${c.url}/readyz`)).ok,
      );
      const empty = await requestsOver(c, 30_000);
      console.log(`idle with no Rollout, 30 s: ${JSON.stringify(empty)}`);
      expect(unexpected(empty)).toEqual([]);

      const names = ["a", "b", "c"];
      for (const name of names) await kube().create(rollout(ns, name, { replicas: 1, strategy: { canary: { steps: [] } } }));
      for (const name of names) await waitForRollout(ns, name, "healthy", (s) => s.phase === "Healthy", 60_000);
      // Pods becoming ready come in as changes for a while: wait until a few seconds pass without one.
      await eventually("the rollouts settled", async () => unexpected(await requestsOver(c, 5_000)).length === 0, 90_000);
      const before = await reconciles(c.url);
      const settled = await requestsOver(c, 30_000);
      console.log(`idle with ${names.length} Healthy Rollouts, 30 s: ${JSON.stringify(settled)}`);
      expect(unexpected(settled)).toEqual([]);
      // A Healthy rollout asks for no requeue.
      expect((await reconciles(c.url)) - before).toBe(0);

      await kube().create({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "ramp-notifications", namespace: ns },
        data: { destinations: "webhook:\n  hook: {url: http://127.0.0.1:9/hook}\n", "on-completed": "webhook:hook" },
      });
      await eventually(
        "the settings edit seen",
        async () => c.output().includes(`notifications: ConfigMap ${ns}/ramp-notifications: 1 destinations`),
        10_000,
      );
    } finally {
      await c.stop();
    }
  }, 300_000);
});

describe("reconcile rate", () => {
  it("a canary whose analysis template names its own Prometheus address is quiet during the analysis and once Healthy", async () => {
    const ns = await namespace("quiet");
    await kube().create({
      apiVersion: "ramp.dev/v1alpha1",
      kind: "AnalysisTemplate",
      metadata: { name: "own-address", namespace: ns },
      spec: {
        metrics: [
          {
            name: "always-zero",
            count: 5,
            interval: "3s",
            successCondition: "result == 0",
            provider: { prometheus: { address: cluster().prometheusUrl, query: "vector(0)" } },
          },
        ],
      },
    });
    const c = await startController(["--namespace", ns]);
    try {
      await kube().create(
        rollout(ns, "calm", {
          replicas: 2,
          strategy: { canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "own-address" }] } }] } },
        }),
      );
      await waitForRollout(ns, "calm", "healthy", (s) => s.phase === "Healthy");
      await setImage(ns, "calm", "calm:2");
      await waitForRollout(ns, "calm", "analysing", (s) => s.canary?.currentStepAnalysisRun?.phase === "Running", 60_000);
      // About one reconcile per measurement (the run's status changes), plus pods becoming ready.
      expect(await reconcilesOver(c.url, 6_000)).toBeLessThan(15);
      await waitForRollout(ns, "calm", "promoted", (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash, 90_000);
      // A loop runs tens of times a second; a settled Rollout sees a handful (pods becoming ready).
      expect(await reconcilesOver(c.url, 10_000)).toBeLessThan(10);
    } finally {
      await c.stop();
    }
  });
});
