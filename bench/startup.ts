// Start-up costs, from dist/ (npm run build first) and from the sources: each CLI command's wall time
// (median of 5) against a dev cluster this script starts and stops, and the controller's time from
// spawn to /readyz answering ready with 0 Rollouts (polled every 20 ms).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { devDown, devUp } from "../src/dev/up.ts";
import { KubeClient } from "../src/kube/client.ts";

const ROOT = join(import.meta.dirname, "..");
const ENTRIES = { dist: join(ROOT, "dist/cli/main.js"), sources: join(ROOT, "src/cli/main.ts") };
const RUNS = 5;
const NAME = "startup";
const NS = "default";

if (!existsSync(ENTRIES.dist)) throw new Error("no dist/cli/main.js: run `npm run build` first");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function timeCommand(entry: string, args: string[]): { ms: number; code: number | null } {
  const started = performance.now();
  const { status } = spawnSync(process.execPath, [entry, ...args], { stdio: "ignore" });
  return { ms: performance.now() - started, code: status };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function timeToReady(entry: string, kubeconfig: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [entry, "controller", "--kubeconfig", kubeconfig, "--metrics-port", String(port), "--no-leader-elect", "--no-notifications"],
    { stdio: "ignore" },
  );
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ready) return performance.now() - started;
      if (performance.now() - started > 60_000) throw new Error(`${entry}: not ready within 60 s`);
      await sleep(20);
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

const cluster = await devUp({ name: NAME });
try {
  const kubeconfig = cluster.kubeconfig;
  console.log(`controller time to ready, 0 rollouts, median of ${RUNS} (ms)`);
  for (const [label, entry] of Object.entries(ENTRIES)) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await timeToReady(entry, kubeconfig));
    console.log(`${label.padEnd(18)}${median(times).toFixed(0).padStart(8)}`);
  }

  await new KubeClient({ kubeconfig, fieldManager: "ramp-bench" }).apply({
    apiVersion: "ramp.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: NS },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image: "web:1" }] },
      },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    },
  });
  const k = ["--kubeconfig", kubeconfig, "-n", NS];
  const commands: Record<string, string[]> = {
    version: ["version"],
    "lint examples/": ["lint", join(ROOT, "examples")],
    list: ["list", ...k],
    get: ["get", "web", ...k],
    promote: ["promote", "web", ...k],
  };
  console.log(`\nCLI start-up, median of ${RUNS} (ms)`);
  console.log(`${"command".padEnd(18)}${"dist".padStart(8)}${"sources".padStart(10)}  exit`);
  for (const [label, args] of Object.entries(commands)) {
    const row = Object.values(ENTRIES).map((entry) => Array.from({ length: RUNS }, () => timeCommand(entry, args)));
    const cells = row.map((runs) => median(runs.map((r) => r.ms)).toFixed(0));
    console.log(`${label.padEnd(18)}${cells[0]?.padStart(8)}${cells[1]?.padStart(10)}  ${row[0]?.[0]?.code}`);
  }
} finally {
  await devDown(NAME);
}
