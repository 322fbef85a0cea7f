// GitOps health on the real controller: every version of a Rollout the apiserver served during a
// canary rollout, an abort, a retry and a promotion, judged by kstatus' own library (what Flux and
// kpt wait with) and by Argo CD's health check run in Lua.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canaryAbortRetryFlow } from "./flows.ts";
import { argoHealth, ensureGitopsTools, kstatus, recordRollout } from "./gitops.ts";
import { namespace } from "./helpers.ts";
import { type ControllerProcess, type RolloutObj, startController } from "./rollouts.ts";

/** What each tool should say of a version: from its phase, once the controller has observed it. */
function expected(r: RolloutObj): { kstatus: string; reason?: string; argo: string } {
  const s = r.status;
  // kstatus' own gap (docs/api.md): no observedGeneration and no conditions is Current.
  if (!s) return { kstatus: "Current", argo: "Progressing" };
  if (s.observedGeneration !== r.metadata.generation)
    return { kstatus: "InProgress", reason: "LatestGenerationNotObserved", argo: "Progressing" };
  switch (s.phase) {
    case "Healthy":
      return { kstatus: "Current", argo: "Healthy" };
    case "Paused":
      return { kstatus: "InProgress", reason: "RolloutPaused", argo: "Suspended" };
    case "Degraded":
      return { kstatus: "Failed", reason: "RolloutAborted", argo: "Degraded" };
    default:
      return { kstatus: "InProgress", reason: "RolloutProgressing", argo: "Progressing" };
  }
}

/** The values in order with repeats collapsed. */
const runs = (xs: string[]) => xs.filter((x, i) => x !== xs[i - 1]);

/** Whether `want` appears in `xs` in order (not necessarily adjacent). */
const inOrder = (xs: string[], want: string[]) => {
  let i = 0;
  for (const x of xs) if (x === want[i]) i++;
  return i === want.length;
};

describe("GitOps health: kstatus conditions and the Argo CD health check", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    await ensureGitopsTools();
    ns = await namespace("gitops");
    controller = await startController(["--namespace", ns, "--leader-election-namespace", ns]);
  }, 900_000);
  afterAll(async () => {
    await controller?.stop();
  });

  it("through a canary rollout, an abort, a retry and a promotion, kstatus and Argo CD say what each status means", async () => {
    const recorder = recordRollout(ns, "web");
    try {
      await canaryAbortRetryFlow({ ns, name: "web" });
    } finally {
      await recorder.stop();
    }
    const versions = recorder.versions;
    expect(versions.length).toBeGreaterThan(10);

    const seen = { kstatus: [] as string[], argo: [] as string[] };
    for (const r of versions) {
      const want = expected(r);
      const where = `${r.metadata.resourceVersion}: phase ${r.status?.phase} gen ${r.metadata.generation}/${r.status?.observedGeneration}`;
      const [k, argo] = await Promise.all([kstatus(r), argoHealth(r)]);
      expect(k.Status, `kstatus at ${where}: ${k.Message}`).toBe(want.kstatus);
      if (want.reason) expect(k.Conditions?.[0]?.reason, `kstatus reason at ${where}`).toBe(want.reason);
      expect(argo.status, `Argo CD at ${where}: ${argo.message}`).toBe(want.argo);
      expect(argo.message, `Argo CD message at ${where}`).toBeTruthy();
      seen.kstatus.push(k.Status);
      seen.argo.push(argo.status);

      // Abnormal-true: Reconciling and Stalled only ever present as True, never both; Ready always.
      const conditions = r.status?.conditions ?? [];
      const abnormal = conditions.filter((c) => c.type === "Reconciling" || c.type === "Stalled");
      if (r.status?.phase) {
        expect(
          abnormal.map((c) => c.status),
          where,
        ).toEqual(conditions.find((c) => c.type === "Ready")?.status === "True" ? [] : ["True"]);
        expect(
          conditions.filter((c) => c.type === "Ready").map((c) => c.observedGeneration),
          where,
        ).toEqual([r.status.observedGeneration]);
      }
    }
    // v1 healthy, v2 walked to its pause, aborted, retried to the pause again, promoted to healthy.
    expect(
      inOrder(runs(seen.kstatus), ["Current", "InProgress", "Failed", "InProgress", "Current"]),
      runs(seen.kstatus).join(" "),
    ).toBe(true);
    expect(
      inOrder(runs(seen.argo), ["Healthy", "Progressing", "Suspended", "Degraded", "Progressing", "Suspended", "Healthy"]),
      runs(seen.argo).join(" "),
    ).toBe(true);
  }, 300_000);
});
