// The live view end-to-end: the real controller walks a canary (a timed pause, then a Prometheus
// analysis) while `ramp status -w` runs on a pseudo-terminal (util-linux `script`), as a person's
// terminal would; the test reads back every byte it wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, rampWatch, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

const MAIN = join(import.meta.dirname, "..", "src/cli/main.ts");
const ESC = "\x1b";
// A colour (SGR) sequence: ESC [ params m.
const COLOUR = new RegExp(`${ESC}\\[[\\d;]*m`);

/** `ramp ARGS` on a pseudo-terminal of 120 columns and 60 rows; `script -e` exits with its code. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv) {
  const quoted = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(" ");
  const child: ChildProcess = spawn("script", ["-qfec", `stty cols 120 rows 60; exec ${quoted}`, "/dev/null"], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let output = "";
  child.stdout?.on("data", (c) => (output += c));
  child.stderr?.on("data", (c) => (output += c));
  return { output: () => output, exited: once(child, "exit").then(([code]) => code as number | null), child };
}

/** Each frame after the first moves back up exactly the height of the one before it. */
function expectRedrawnInPlace(transcript: string, atLeast: number) {
  const drawn = frames(transcript);
  expect(drawn.length, transcript).toBeGreaterThanOrEqual(atLeast);
  for (const [i, frame] of drawn.entries()) {
    if (i > 0) expect(frame.up, `frame ${i}`).toBe(drawn[i - 1]?.lines.length);
  }
  return drawn;
}

/** The frames a transcript holds: what was written between one move back up and the next. */
function frames(transcript: string): { up: number; lines: string[] }[] {
  // ESC [ n F moves to the first column n lines up: the start of the frame it redraws.
  const parts = transcript.split(new RegExp(`${ESC}\\[(\\d+)F`));
  const out = [{ up: 0, lines: lineOf(parts[0] ?? "") }];
  for (let i = 1; i < parts.length; i += 2) out.push({ up: Number(parts[i]), lines: lineOf(parts[i + 1] ?? "") });
  return out;
}
// Each line of a frame ends with ESC [ K (erase the rest of the line), then the terminal's CR LF.
const lineOf = (chunk: string) => chunk.split(`${ESC}[K\r\n`).slice(0, -1);

describe("ramp status -w on a terminal", { timeout: 300_000 }, () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("live");
    controller = await startController(["--namespace", ns, "--no-leader-elect", "--prometheus-url", cluster().prometheusUrl]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it("end-to-end: redraws in place with colour (none with NO_COLOR=1): countdown, pods per ReplicaSet, metric rows; exits 0 when Healthy", async () => {
    await kube().create({
      apiVersion: "ramp.dev/v1alpha1",
      kind: "AnalysisTemplate",
      metadata: { name: "errors", namespace: ns },
      spec: {
        metrics: [
          {
            name: "error-rate",
            interval: "1s",
            count: 4,
            successCondition: "result < 0.05",
            provider: { prometheus: { query: "vector(0.01)" } },
          },
        ],
      },
    });
    await kube().create(
      rollout(ns, "web", {
        replicas: 2,
        strategy: {
          canary: {
            scaleDownDelaySeconds: 0,
            // Long enough for both CLIs to start on a busy machine before the rollout ends.
            steps: [{ setWeight: 50 }, { pause: { duration: "25s" } }, { analysis: { templates: [{ templateName: "errors" }] } }],
          },
        },
      }),
    );
    await waitForRollout(ns, "web", "first revision healthy", (s) => s.phase === "Healthy", 120_000);
    await setImage(ns, "web", "web:2");
    await waitForRollout(ns, "web", "the new revision under way", (s) => s.phase !== "Healthy", 60_000);

    const args = ["status", "web", "-w", "-n", ns, "--kubeconfig", cluster().kubeconfig, "--timeout", "4m"];
    const { NO_COLOR: _, ...env } = process.env;
    const coloured = onTerminal(args, env);
    const plain = onTerminal(args, { ...env, NO_COLOR: "1" });
    try {
      await eventually(
        "both views drawn",
        async () => coloured.output().includes("Pause:") && plain.output().includes("Pause:"),
        90_000,
      );
      expect(await coloured.exited, coloured.output()).toBe(0);
      expect(await plain.exited, plain.output()).toBe(0);
    } finally {
      coloured.child.kill();
      plain.child.kill();
    }

    for (const [view, colour] of [
      [coloured.output(), true],
      [plain.output(), false],
    ] as const) {
      // Redrawn in place: every frame after the first moves back up exactly the height of the one
      // before it (and erases what is left below), rather than appending to a growing transcript.
      const drawn = expectRedrawnInPlace(view, 4);
      expect(view).toContain(`${ESC}[J`);
      expect(COLOUR.test(view), "colour codes").toBe(colour);

      const text = drawn.map((f) => f.lines.map(stripVTControlCharacters).join("\n"));
      const some = (pattern: RegExp) => text.some((t) => pattern.test(t));
      expect(some(/^web {2}\S+ {2}Canary {2}● Paused/m), view).toBe(true);
      expect(some(/^Pause: +\d+s left$/m)).toBe(true);
      expect(some(/^Weight: +desired 50% {2}set 50% \(replica counts, no router\)$/m)).toBe(true);
      // Pods under their ReplicaSet: the canary's one pod, then the stable's.
      expect(some(/^ {2}rev 2 {2}\S+ {2}canary {2}web:2 {2}1\/1 ready.*\n {4}web-\S+ +Running +1\/1 +0 restarts/m)).toBe(true);
      expect(some(/^ {2}rev 1 {2}\S+ {2}stable {2}web:1 {2}\d\/\d ready.*\n {4}web-\S+ +Running +1\/1/m)).toBe(true);
      // A row per metric: the last value against its condition, the counts, a sparkline.
      expect(some(/^ {4}METRIC +LAST +CONDITION +OK +FAILED +INCONCLUSIVE +ERRORS +RECENT$/m)).toBe(true);
      expect(some(/^ {4}error-rate +\[?0\.01\]? +result < 0\.05 +[1-4] +0 +0 +0 +[▁-█]+$/m), text.at(-1)).toBe(true);
      expect(text.at(-1)).toMatch(/● Healthy/);
    }
  });

  // No controller watches this namespace: the statuses below are written by hand.
  const byHand = async (hand: string, name: string, status: Record<string, unknown>) => {
    await kube().create(rollout(hand, name, { replicas: 1, strategy: { canary: { steps: [{ setWeight: 50 }] } } }));
    await kube().patch("ramp.dev/v1alpha1", "Rollout", name, hand, { status }, { subresource: "status" });
  };

  it("status set by hand: on a terminal status -w still exits 1 Degraded, 2 on --timeout, 3 once the Rollout is deleted", async () => {
    const hand = await namespace("live-hand");
    const term = (...args: string[]) => onTerminal([...args, "-n", hand, "--kubeconfig", cluster().kubeconfig], process.env);
    await byHand(hand, "degraded", { phase: "Degraded", abort: true, observedGeneration: 1 });
    const degraded = term("status", "degraded", "-w");
    expect(await degraded.exited, degraded.output()).toBe(1);

    await byHand(hand, "slow", { phase: "Progressing" });
    const slow = term("status", "slow", "-w", "--timeout", "3s");
    expect(await slow.exited, slow.output()).toBe(2);
    expect(slow.output()).toContain('ramp: rollout "slow" did not finish within 3s');

    const gone = term("status", "slow", "-w");
    await eventually("the first frame", async () => gone.output().includes("Progressing"), 60_000);
    await kube().delete("ramp.dev/v1alpha1", "Rollout", "slow", hand);
    expect(await gone.exited, gone.output()).toBe(3);
    expect(gone.output()).toContain(`Error from server (NotFound): rollouts.ramp.dev "slow" not found in namespace "${hand}"`);
  });

  it("status set by hand: get -w shows a watch the identity may not open as a line of the frame; list -w redraws in place, and appends off a terminal", async () => {
    const hand = await namespace("live-list");
    const k = kube();
    await byHand(hand, "shop", { phase: "Progressing" });
    await k.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "no-pods", namespace: hand },
      rules: [
        { apiGroups: ["ramp.dev"], resources: ["rollouts", "analysisruns"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list", "watch"] },
      ],
    });
    await k.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "no-pods", namespace: hand },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "no-pods" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "no-pods" }],
    });
    const base = ["-n", hand, "--kubeconfig", cluster().kubeconfig];
    const denied = onTerminal(["get", "shop", "-w", "--as", "no-pods", ...base], process.env);
    try {
      await eventually(
        "the forbidden pods",
        async () => /^! pods: .*forbidden/m.test(stripVTControlCharacters(denied.output()).replaceAll("\r", "")),
        90_000,
      );
      expect(stripVTControlCharacters(denied.output())).toMatch(/^shop {2}\S+ {2}Canary {2}● Progressing/m);
    } finally {
      denied.child.kill();
    }

    const listed = onTerminal(["list", "-w", ...base], process.env);
    const appended = rampWatch("list", "-w", "-n", hand);
    try {
      const table = /^shop +Canary +Progressing/m;
      await eventually("both tables", async () => table.test(listed.output()) && table.test(appended.output()), 90_000);
      await k.patch("ramp.dev/v1alpha1", "Rollout", "shop", hand, { status: { phase: "Paused" } }, { subresource: "status" });
      const again = /^shop +Canary +Paused/m;
      await eventually("the tables again", async () => again.test(listed.output()) && again.test(appended.output()), 90_000);
      expectRedrawnInPlace(listed.output(), 2);
      expect(appended.output()).not.toContain(ESC);
      expect(appended.output()).toMatch(
        /^NAME +STRATEGY +PHASE +STEP +WEIGHT +READY +AGE\nshop +Canary +Progressing .*\n\nNAME .*\nshop +Canary +Paused /m,
      );
    } finally {
      listed.child.kill();
      appended.stop();
    }
  });
});
