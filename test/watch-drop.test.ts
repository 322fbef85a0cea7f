// The controller behind a TCP proxy that goes silent (src/kube/freezing-proxy.ts): its connections to
// the apiserver stay open and carry nothing. A watch so frozen is noticed within the request timeout
// (its longest allowed silence) and restarted, and the cache catches up with a change it missed; a
// request that hangs fails within the request timeout and is logged; a leader that cannot reach the
// apiserver stops renewing its Lease, says it is not ready, and exits (lease.ts's rules).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { type FreezingProxy, freezingProxy } from "../src/kube/freezing-proxy.ts";
import { changeRollout } from "../src/rollout/live.ts";
import { promote } from "../src/rollout/operations.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

type Lease = KubeObject & { spec: { holderIdentity?: string; renewTime?: string } };

/** The dev cluster's kubeconfig with the proxy as the server: the apiserver's certificate names
 * 127.0.0.1, so TLS through the proxy verifies as it does direct. */
function kubeconfigThrough(proxy: FreezingProxy): string {
  const file = join(mkdtempSync(join(tmpdir(), "ramp-watchdrop-")), "kubeconfig");
  writeFileSync(file, readFileSync(cluster().kubeconfig, "utf8").replaceAll(cluster().apiserverUrl, proxy.url));
  return file;
}

/** ramp_watch_failures_total by resource, as /metrics shows it. */
async function watchFailures(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/^ramp_watch_failures_total\{resource="([^"]+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]),
  );
}

const lease = (ns: string) => kube().get<Lease>("coordination.k8s.io/v1", "Lease", "ramp-controller", ns);

const canary = (ns: string, name: string, pause: Record<string, unknown>) =>
  rollout(ns, name, { replicas: 2, strategy: { canary: { steps: [{ setWeight: 50 }, { pause }] } } });

/** Time since `since`, in seconds with one decimal, for the log. */
const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

describe("a silently dropped apiserver connection", () => {
  let proxy: FreezingProxy | undefined;
  let controller: ControllerProcess | undefined;
  afterEach(async () => {
    await controller?.stop();
    await proxy?.close();
  });

  it("a frozen watch is noticed within the request timeout, restarted, and the promote it missed is acted on", async () => {
    const ns = await namespace("wdrop");
    proxy = await freezingProxy(cluster().apiserverUrl);
    const idleS = 5;
    // The Lease keeps its default timing (15 s, 10 s, 2 s): a renewal caught by the freeze has to be
    // given up and tried again within the renew deadline, not cost the Lease.
    controller = await startController(
      [
        ...["--namespace", ns, "--leader-election-namespace", ns, "--identity", "watchdrop-a", "--no-analysis"],
        ...["--request-timeout", `${idleS}s`],
      ],
      { kubeconfig: kubeconfigThrough(proxy) },
    );
    await kube().create(canary(ns, "web", {}));
    await waitForRollout(ns, "web", "healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "web", "web:2");
    await waitForRollout(ns, "web", "paused at the pause step", (s) => s.phase === "Paused");
    const failuresBefore = await watchFailures(controller.url);
    const renewedBefore = (await lease(ns)).spec.renewTime ?? "";

    proxy.freeze();
    const frozenAt = Date.now();
    // `ramp promote`'s own code, in-process to keep the freeze short, straight to the apiserver.
    await changeRollout({ client: kube(), namespace: ns }, "web", (r) => promote(r));
    proxy.resume();

    const url = `${proxy.url}/apis/ramp.dev/v1alpha1/namespaces/${ns}/rollouts`;
    const line = `WATCH ${url}: no answer within ${idleS}s`;
    const output = controller.output;
    await eventually("the frozen Rollout watch is given up", async () => output().includes(line), 3 * idleS * 1000);
    const noticed = seconds(frozenAt);
    await waitForRollout(ns, "web", "promoted to the end", (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash);
    const caughtUp = seconds(frozenAt);
    console.log(`frozen watch given up ${noticed}s after the freeze, the missed promote acted on at ${caughtUp}s`);
    // At most one silence of idleS after the last bytes before the freeze, plus the machine's slack.
    expect(noticed).toBeLessThan(idleS + 10);

    const failuresAfter = await watchFailures(controller.url);
    expect(failuresAfter.Rollout ?? 0).toBeGreaterThan(failuresBefore.Rollout ?? 0);
    expect(failuresAfter.ReplicaSet ?? 0).toBeGreaterThan(failuresBefore.ReplicaSet ?? 0);
    // The Lease went on being renewed over new connections, by the same leader, which is ready.
    const after = await lease(ns);
    expect(after.spec.holderIdentity).toBe("watchdrop-a");
    expect(after.spec.renewTime && after.spec.renewTime > renewedBefore).toBe(true);
    await eventually("ready again", async () => (await fetch(`${controller?.url}/readyz`)).status === 200);
    expect(controller.child.exitCode).toBeNull();
  }, 120_000);

  it("with the apiserver unreachable, requests time out and are logged, readiness fails, and the Lease is let go", async () => {
    const ns = await namespace("wdrop");
    proxy = await freezingProxy(cluster().apiserverUrl);
    const timeoutS = 3;
    const renewDeadlineS = 15;
    const args = [
      ...["--namespace", ns, "--leader-election-namespace", ns, "--identity", "watchdrop-b", "--no-analysis"],
      ...["--request-timeout", `${timeoutS}s`],
      ...["--lease-duration", "20s", "--renew-deadline", `${renewDeadlineS}s`, "--retry-period", "1s"],
    ];
    const kubeconfig = kubeconfigThrough(proxy);
    controller = await startController(args, { kubeconfig });
    // The timed pause ends while the proxy is frozen: the reconcile that moves on has to write.
    await kube().create(canary(ns, "web", { duration: "4s" }));
    await waitForRollout(ns, "web", "healthy", (s) => s.phase === "Healthy");
    await setImage(ns, "web", "web:2");
    await waitForRollout(ns, "web", "in the timed pause", (s) => s.phase === "Paused");

    proxy.freeze();
    const frozenAt = Date.now();
    const running = controller;
    const readiness = await eventually(
      "readiness to fail",
      async () => {
        const res = await fetch(`${running.url}/readyz`);
        return res.status === 503 && ((await res.json()) as { reason: string }).reason;
      },
      3 * timeoutS * 1000 + 10_000,
    );
    const unready = seconds(frozenAt);
    expect(readiness).toContain(`no answer within ${timeoutS}s`);

    const code = await Promise.race([running.exited, new Promise<string>((r) => setTimeout(() => r("still running"), 60_000))]);
    const exited = seconds(frozenAt);
    const output = running.output();
    console.log(`not ready ${unready}s after the freeze, exited ${exited}s after it (renew deadline ${renewDeadlineS}s)`);
    expect(code).toBe(1);
    const leasePath = `${proxy.url}/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/ramp-controller`;
    // Tried again and again until the deadline, each attempt ending in the request timeout.
    const leaseTimeouts = output.split(`Lease ${ns}/ramp-controller: GET ${leasePath}: no answer within ${timeoutS}s; retrying`);
    expect(leaseTimeouts.length - 1).toBeGreaterThanOrEqual(2);
    expect(output).toMatch(new RegExp(`reconcile ${ns}/web failed \\(retry in \\d+ms\\): .*: no answer within ${timeoutS}s`));
    expect(output).toContain(`Lease ${ns}/ramp-controller: lost; not renewed within ${renewDeadlineS * 1000}ms`);
    expect(output).toContain("lost the lease; exiting");
    // Not renewed once frozen (a renewal already sent may land just after), and given up at the deadline.
    const renewTime = Date.parse((await lease(ns)).spec.renewTime ?? "");
    expect(renewTime).toBeLessThan(frozenAt + 1_000);
    // The deadline runs from the last renewal, a retry period (and a slow attempt) before the freeze.
    expect(exited).toBeGreaterThanOrEqual(renewDeadlineS / 2);
    expect(exited).toBeLessThan(renewDeadlineS + 15);

    // The connection comes back: a fresh process, same identity, takes the Lease at once and finishes.
    proxy.resume();
    controller = await startController(args, { kubeconfig });
    await waitForRollout(ns, "web", "past the timed pause", (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash);
  }, 180_000);
});
