// The live view end-to-end: the real controller walks a canary (a timed pause, then a Prometheus
// analysis) while `ramp status -w` runs on a pseudo-terminal (util-linux `script`), as a person's
// terminal would; the test reads back every byte it wrote.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

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
      const drawn = frames(view);
      // Redrawn in place: every frame after the first moves back up exactly the height of the one
      // before it (and erases what is left below), rather than appending to a growing transcript.
      expect(drawn.length, view).toBeGreaterThan(3);
      for (const [i, frame] of drawn.entries()) {
        if (i > 0) expect(frame.up, `frame ${i}`).toBe(drawn[i - 1]?.lines.length);
      }
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
});
