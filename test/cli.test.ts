// The Rollout commands against the dev cluster, with no controller: each test writes a status by
// hand, runs a command and checks what it changed; and how the CLI fails (exit codes, one line each)
// against a refused identity, a closed port and a server that never answers.
import { mkdtemp } from "node:fs/promises";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { podTemplateHash } from "../src/api/pod-template-hash.ts";
import type { RolloutStatus } from "../src/api/rollout.ts";
import { type RolloutObject, replicaSetFor } from "../src/rollout/objects.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import { getRollout, ramp, rampWatch, rollout, runRamp, template } from "./rollouts.ts";

/** A port nothing listens on: one the system just handed out and we closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const STEPS = [{ setWeight: 20 }, { pause: { duration: "5s" } }, { setWeight: 50 }, { pause: {} }];
const PAUSED: RolloutStatus = {
  phase: "Paused",
  stableRS: "v1",
  currentPodHash: "v2",
  currentStepIndex: 1,
  pauseConditions: [{ reason: "CanaryPauseStep", startTime: "2026-01-01T00:00:00Z" }],
  controllerPause: true,
};

// Each command is a fresh Node process: several seconds apiece on a busy machine.
describe("ramp CLI on Rollouts", { timeout: 180_000 }, () => {
  let ns: string;
  const run = (...args: string[]) => ramp(...args, "-n", ns);
  const setStatus = (name: string, status: RolloutStatus) =>
    kube().patch("ramp.dev/v1alpha1", "Rollout", name, ns, { status }, { subresource: "status" });
  /** A canary Rollout with the given status, as if a controller had written it. */
  const canary = async (name: string, status: RolloutStatus) => {
    await kube().create(rollout(ns, name, { replicas: 2, strategy: { canary: { steps: STEPS } } }));
    await setStatus(name, status);
  };
  const statusOf = async (name: string) => (await getRollout(ns, name)).status ?? {};

  beforeAll(async () => {
    ns = await namespace("cli");
  });

  it("promote moves past the pause; abort, then retry asked for the controller to take up", async () => {
    await canary("steps", PAUSED);
    const promoted = await run("promote", "steps");
    expect(promoted.stdout.trim(), promoted.stderr).toBe('rollout "steps" promoted to step 3 of 4');
    expect(await statusOf("steps")).toMatchObject({ currentStepIndex: 2, pauseConditions: [], controllerPause: false });

    expect((await run("abort", "steps")).code).toBe(0);
    expect((await statusOf("steps")).abort).toBe(true);
    const refused = await run("promote", "steps");
    expect([refused.code, refused.stderr.trim()]).toEqual([1, 'ramp: rollout "steps" is aborted; `ramp retry` starts it again']);

    await setStatus("steps", { abortedAt: "2026-01-01T00:01:00Z" });
    expect((await run("retry", "steps")).code).toBe(0);
    expect(await statusOf("steps")).toMatchObject({ abort: true, abortedAt: "2026-01-01T00:01:00Z", retry: true });

    const full = await run("promote", "steps", "--full");
    expect(full.code, full.stderr).toBe(0);
    expect((await statusOf("steps")).promoteFull).toBe(true);
  });

  it("pause, resume, restart and set image change the spec", async () => {
    await canary("spec", PAUSED);
    expect((await run("pause", "spec")).code).toBe(0);
    expect((await getRollout(ns, "spec")).spec.paused).toBe(true);
    expect((await run("resume", "spec")).code).toBe(0);
    expect((await getRollout(ns, "spec")).spec.paused).toBe(false);
    // resume leaves the controller's pauses to `ramp promote`
    expect((await statusOf("spec")).pauseConditions).toHaveLength(1);

    const before = Date.now() - 1000;
    expect((await run("restart", "spec")).code).toBe(0);
    const restartAt = (await getRollout(ns, "spec")).spec.restartAt as string;
    expect(new Date(restartAt).getTime()).toBeGreaterThanOrEqual(before);

    const set = await run("set", "image", "spec", "spec=spec:3");
    expect(set.stdout.trim(), set.stderr).toBe('rollout "spec" image set: spec=spec:3');
    expect((await getRollout(ns, "spec")).spec.template).toEqual(template("spec", "spec:3"));
    const unknown = await run("set", "image", "spec", "db=db:1");
    expect([unknown.code, unknown.stderr.trim()]).toEqual([1, 'ramp: rollout "spec" has no container "db"; it has spec']);
  });

  it("undo restores an earlier revision's template exactly, whatever defaults the apiserver stored", async () => {
    await canary("back", { phase: "Healthy" });
    const r = (await getRollout(ns, "back")) as RolloutObject;
    const [v1, v2] = [template("back", "back:1"), template("back", "back:2")];
    for (const [revision, t] of [v1, v2].entries()) {
      const hash = podTemplateHash(t);
      await kube().create(replicaSetFor(r, t, { matchLabels: { app: "back" } }, hash, revision + 1, 0, 0));
    }
    await kube().patch("ramp.dev/v1alpha1", "Rollout", "back", ns, { spec: { template: v2 } });

    const undone = await run("undo", "back");
    expect(undone.stdout.trim(), undone.stderr).toBe(`rollout "back" back to revision 1 (${podTemplateHash(v1)})`);
    expect((await getRollout(ns, "back")).spec.template).toEqual(v1);
    expect((await run("undo", "back", "--to-revision", "2")).code).toBe(0);
    expect((await getRollout(ns, "back")).spec.template).toEqual(v2);
    const missing = await run("undo", "back", "--to-revision", "7");
    expect(missing.stderr.trim()).toBe('ramp: rollout "back" has no revision 7 (revisions: 1, 2)');
  });

  it("get, list and not found", async () => {
    await canary("view", PAUSED);
    const json = await run("get", "view", "-o", "json");
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: "Rollout", metadata: { name: "view" }, status: { phase: "Paused" } });
    const text = await run("get", "view");
    expect(text.stdout, text.stderr).toContain("Phase:      Paused");
    expect(text.stdout).toContain("→ 2/4 pause 5s");

    const list = await ramp("list", "-A");
    expect(list.stdout.split("\n")[0]).toMatch(/^NAME\s+NAMESPACE\s+STRATEGY\s+PHASE\s+STEP\s+WEIGHT\s+READY\s+AGE$/);
    expect(list.stdout).toMatch(new RegExp(`view\\s+${ns}\\s+Canary\\s+Paused\\s+1/4`));
    const yaml = await run("list", "-o", "yaml");
    expect(yaml.stdout).toContain("kind: RolloutList");

    const byKind = await run("get", "rro", "view", "-o", "name");
    expect(byKind.stdout.trim(), byKind.stderr).toBe("rollout.ramp.dev/view");
    const listed = await run("get", "rollouts", "-o", "wide", "--no-headers");
    expect(listed.stdout).toMatch(/^view\s+Canary\s+Paused\s+1\/4\s+\S+\s+0\/2\s+\d+s\s+view:1\s/m);
    expect(listed.stdout).not.toContain("NAME");

    const missing = await run("get", "nope");
    expect([missing.code, missing.stderr.trim()]).toEqual([
      1,
      `Error from server (NotFound): rollouts.ramp.dev "nope" not found in namespace "${ns}"`,
    ]);
  });

  it("status -w ends 0 when Healthy, 1 when Degraded, 2 on timeout, 3 on any error (closed port, usage, not found)", async () => {
    await canary("watched", { phase: "Progressing" });
    const generation = (await getRollout(ns, "watched")).metadata.generation as number;
    const timedOut = await run("status", "watched", "-w", "--timeout", "2s");
    expect([timedOut.code, timedOut.stdout]).toEqual([2, expect.stringContaining("Progressing")]);

    const watch = rampWatch("status", "watched", "-w", "-n", ns);
    await eventually("the first view", async () => watch.output().includes("Progressing"));
    await setStatus("watched", { phase: "Healthy", observedGeneration: generation });
    expect(await watch.exited).toBe(0);
    expect(watch.output()).toMatch(/Progressing[\s\S]*\n\n[\s\S]*Healthy/);

    await setStatus("watched", { phase: "Degraded", abort: true });
    expect((await run("status", "watched", "-w")).code).toBe(1);

    const port = await closedPort();
    const unreachable = await run("status", "watched", "-w", "--server", `https://127.0.0.1:${port}`);
    expect([unreachable.code, unreachable.stderr]).toEqual([
      3,
      `The connection to the server 127.0.0.1:${port} was refused - did you specify the right host or port?\n`,
    ]);
    const usage = await run("status", "-w", "--timeout", "soon");
    expect([usage.code, usage.stderr]).toEqual([3, expect.stringContaining("error: missing required argument 'rollout'")]);
    const missing = await run("status", "nope", "-w");
    expect([missing.code, missing.stderr]).toEqual([
      3,
      `Error from server (NotFound): rollouts.ramp.dev "nope" not found in namespace "${ns}"\n`,
    ]);
  });

  it("--as an identity with no rights: one Forbidden line, for reads and writes alike", async () => {
    await canary("guarded", PAUSED);
    for (const command of [["get", "guarded"], ["list"], ["promote", "guarded"], ["status", "guarded", "-w"]]) {
      const refused = await run(...command, "--as", "nobody", "--as-group", "nobodies");
      expect(refused.stderr, command.join(" ")).toMatch(
        /^Error from server \(Forbidden\): rollouts\.ramp\.dev( "guarded")? is forbidden: User "nobody" cannot (get|list) resource "rollouts" in API group "ramp\.dev" in the namespace "[^"]+"\n$/,
      );
      expect(refused.code).toBe(command[0] === "status" ? 3 : 1);
    }
  });

  it("--token with a minted ServiceAccount token acts as that ServiceAccount; -v 6 logs each request", async () => {
    await canary("tokened", PAUSED);
    const k = kube();
    await k.create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "viewer", namespace: ns } });
    await k.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "rollout-viewer", namespace: ns },
      rules: [
        { apiGroups: ["ramp.dev"], resources: ["rollouts", "analysisruns"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list"] },
      ],
    });
    await k.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "viewer", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "rollout-viewer" },
      subjects: [{ kind: "ServiceAccount", name: "viewer", namespace: ns }],
    });
    const { status } = await k.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${ns}/serviceaccounts/viewer/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
    );
    const token = status.token;

    const seen = await eventually("the Role to take effect", async () => {
      const r = await run("get", "tokened", "--token", token, "-v", "6");
      return r.code === 0 && r;
    });
    expect(seen.stdout).toContain("Phase:      Paused");
    expect(seen.stderr).toMatch(
      new RegExp(
        `^I\\d{4} [\\d:.]+ \\d+ client\\.ts\\] GET https://\\S+/apis/ramp\\.dev/v1alpha1/namespaces/${ns}/rollouts/tokened 200 OK in \\d+ milliseconds$`,
        "m",
      ),
    );
    // The token's identity, not the kubeconfig's: it may read but not write.
    const write = await run("promote", "tokened", "--token", token);
    expect([write.code, write.stderr]).toEqual([
      1,
      expect.stringMatching(
        /^Error from server \(Forbidden\): .*User "system:serviceaccount:[^:]+:viewer" cannot patch resource "rollouts\/status"/,
      ),
    ]);
  });

  it("--request-timeout: a server that accepts and never answers ends the command within the bound", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      for (const command of [
        ["get", "x"],
        ["status", "x", "-w"],
      ]) {
        const started = Date.now();
        // It never answers the TLS handshake either.
        const r = await run(...command, "--server", `https://127.0.0.1:${port}`, "--request-timeout", "2s");
        // Node's start-up on a loaded machine aside, the 2 s bound is what ends it.
        expect(Date.now() - started, command.join(" ")).toBeLessThan(30_000);
        expect([r.code, r.stderr]).toEqual([
          command[0] === "status" ? 3 : 1,
          `Unable to connect to the server: GET https://127.0.0.1:${port}/apis/ramp.dev/v1alpha1: no answer within 2s\n`,
        ]);
      }
      expect(sockets.length).toBeGreaterThanOrEqual(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("kubectl's words for no kubeconfig and an unknown context", async () => {
    const home = await mkdtemp(join(tmpdir(), "ramp-home-"));
    const { KUBECONFIG: _, ...env } = process.env;
    const none = await runRamp(["list"], { ...env, HOME: home });
    expect([none.code, none.stderr]).toEqual([
      1,
      "error: invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable\n",
    ]);
    const context = await run("list", "--context", "nope");
    expect([context.code, context.stderr]).toEqual([1, 'error: context "nope" does not exist\n']);
    const file = await runRamp(["list", "--kubeconfig", join(home, "absent")]);
    expect([file.code, file.stderr]).toEqual([1, `error: stat ${join(home, "absent")}: no such file or directory\n`]);
  });
});
