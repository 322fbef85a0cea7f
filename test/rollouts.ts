// Helpers for end-to-end tests of the Rollout controller: the controller and the CLI as real
// processes against the dev cluster, and small builders for Rollouts and their Services.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { promisify } from "node:util";
import type { RolloutStatus } from "../src/api/rollout.ts";
import type { KubeObject } from "../src/kube/client.ts";
import type { ReplicaSetObject } from "../src/rollout/objects.ts";
import { cluster, eventually, kube } from "./helpers.ts";

const ROOT = join(import.meta.dirname, "..");
const MAIN = join(ROOT, "src/cli/main.ts");

export interface ControllerProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT of its health and metrics server. */
  url: string;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves once the process is gone. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export interface ControllerLaunch {
  /** What runs `ramp controller`; the controller from the sources by default. */
  command?: string[];
  /** The kubeconfig as the controller sees it (another path inside an image). */
  kubeconfig?: string;
  env?: NodeJS.ProcessEnv;
  /** Receivers and Prometheus are on loopback, so loopback destinations are allowed unless false. */
  allowLoopback?: boolean;
}

/** Starts `ramp controller` as a process; resolves once it serves /readyz. */
export async function startController(args: string[], launch: ControllerLaunch = {}): Promise<ControllerProcess> {
  const [command, ...commandArgs] = launch.command ?? [process.execPath, MAIN, "controller"];
  if (!command) throw new Error("startController: an empty command");
  const loopback = (launch.allowLoopback ?? true) ? ["--outbound-allow-loopback"] : [];
  const child = spawn(
    command,
    [...commandArgs, "--kubeconfig", launch.kubeconfig ?? cluster().kubeconfig, "--metrics-port", "0", ...loopback, ...args],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: launch.env ?? process.env },
  );
  let output = "";
  const exited = once(child, "exit").then(([code]) => code as number | null);
  // RAMP_TEST_VERBOSE=1 shows the controller's log live, for debugging a failing flow.
  const collect = (c: Buffer) => {
    output += c;
    if (process.env.RAMP_TEST_VERBOSE) process.stderr.write(c);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const url = await eventually(
    `the controller's server (its output so far below)`,
    async () => {
      if (child.exitCode !== null) throw new Error(`controller exited ${child.exitCode}:\n${output}`);
      return /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    },
    // Generous: other engineers' tests share the 2 cores.
    60_000,
  ).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${output}`);
  });
  return {
    child,
    url,
    output: () => output,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A controller that watches only `ns`, leads through a Lease there, and measures with the dev
 * cluster's Prometheus: what most end-to-end tests of one namespace run. */
export const startNamespacedController = (ns: string, ...extra: string[]) =>
  startController([
    ...["--namespace", ns, "--leader-election-namespace", ns],
    ...["--prometheus-url", cluster().prometheusUrl],
    ...extra,
  ]);

/** Every reconcile the controller has counted (ramp_reconcile_total, all outcomes). */
export async function reconciles(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^ramp_reconcile_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/** Runs the CLI to completion against the dev cluster. */
export const ramp = (...args: string[]) => runRamp([...args, "--kubeconfig", cluster().kubeconfig]);

/** Runs the CLI to completion with exactly these arguments (and environment, when given). */
export async function runRamp(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { cwd: ROOT, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Starts a long-running CLI command (e.g. `status -w`), collecting its output. */
export function rampWatch(...args: string[]): { output: () => string; exited: Promise<number | null>; stop: () => void } {
  const child = spawn(process.execPath, [MAIN, ...args, "--kubeconfig", cluster().kubeconfig], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (c) => (output += c));
  child.stderr?.on("data", (c) => (output += c));
  return { output: () => output, exited: once(child, "exit").then(([code]) => code as number | null), stop: () => child.kill() };
}

export type RolloutObj = KubeObject & { spec: Record<string, unknown>; status?: RolloutStatus };

export function service(ns: string, name: string, app: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns },
    spec: { selector: { app }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

export const template = (app: string, image: string, env: Record<string, string> = {}) => ({
  metadata: { labels: { app } },
  spec: {
    containers: [{ name: app, image, env: Object.entries(env).map(([name, value]) => ({ name, value })) }],
  },
});

export function rollout(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  labels: Record<string, string> = {},
): RolloutObj {
  return {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "Rollout",
    metadata: { name, namespace: ns, labels },
    spec: { selector: { matchLabels: { app: name } }, template: template(name, `${name}:1`), ...spec },
  };
}

export const getRollout = (ns: string, name: string) => kube().get<RolloutObj>("ramp.dev/v1alpha1", "Rollout", name, ns);

export async function replicaSets(ns: string): Promise<ReplicaSetObject[]> {
  return (await kube().list<ReplicaSetObject>("apps/v1", "ReplicaSet", ns)).sort(
    (a, b) =>
      Number(a.metadata.annotations?.["ramp.dev/revision"] ?? 0) - Number(b.metadata.annotations?.["ramp.dev/revision"] ?? 0),
  );
}

/** Spec replicas of each ReplicaSet (of one Rollout, when named), by pod-template hash. */
export async function podsByHash(ns: string, rolloutName?: string): Promise<Record<string, number>> {
  const owned = (await replicaSets(ns)).filter(
    (rs) => rolloutName === undefined || rs.metadata.ownerReferences?.some((o) => o.kind === "Rollout" && o.name === rolloutName),
  );
  return Object.fromEntries(owned.map((rs) => [rs.metadata.labels?.["ramp.dev/pod-template-hash"] ?? "", rs.spec.replicas ?? 0]));
}

export async function selectorHash(ns: string, svc: string): Promise<string | undefined> {
  const s = await kube().get<KubeObject & { spec: { selector?: Record<string, string> } }>("v1", "Service", svc, ns);
  return s.spec.selector?.["ramp.dev/pod-template-hash"];
}

/** Waits for the Rollout's status to satisfy `check`, returning it. */
export async function waitForRollout(
  ns: string,
  name: string,
  what: string,
  check: (s: RolloutStatus) => boolean,
  timeoutMs = 60_000,
): Promise<RolloutStatus> {
  let last: RolloutStatus | undefined;
  try {
    return await eventually(
      `${ns}/${name}: ${what}`,
      async () => {
        const r = await getRollout(ns, name);
        last = r.status;
        return r.status && r.metadata.generation === r.status.observedGeneration && check(r.status) ? r.status : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    // The state it was left in says more about a timeout than the wait's name.
    const seen = last && { phase: last.phase, message: last.message, step: last.currentStepIndex, pause: last.pauseConditions };
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(seen)}`);
  }
}

/** A template whose one metric the tests decide by hand (setRunPhase). */
export const analysisTemplate = (ns: string, name: string) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name, namespace: ns },
  spec: {
    metrics: [{ name: "errors", successCondition: "result < 0.05", provider: { prometheus: { query: "vector(0)" } } }],
  },
});

export async function setImage(ns: string, name: string, image: string, env: Record<string, string> = {}): Promise<void> {
  await kube().patch("ramp.dev/v1alpha1", "Rollout", name, ns, { spec: { template: template(name, image, env) } });
}

/** Sets an AnalysisRun's phase by hand, as the analysis controller would. */
export async function setRunPhase(ns: string, run: string, phase: string): Promise<void> {
  await kube().patch(
    "ramp.dev/v1alpha1",
    "AnalysisRun",
    run,
    ns,
    { status: { phase, message: `set by the test` } },
    {
      subresource: "status",
    },
  );
}

export async function eventReasons(ns: string, name: string): Promise<string[]> {
  const events = await kube().list<KubeObject & { reason: string; involvedObject: { name: string } }>("v1", "Event", ns);
  return events.filter((e) => e.involvedObject.name === name).map((e) => e.reason);
}
