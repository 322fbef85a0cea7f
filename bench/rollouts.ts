// Benchmark of issue 14: N canary Rollouts (2 replicas, steps [setWeight 50, pause 5s, setWeight 100])
// on a dev cluster, driven by the compiled controller (dist/, built first) at 10 workers, QPS 50 /
// burst 100 unless told otherwise. Per phase — create (until all Healthy), idle (two minutes: the
// first after the create, then the steady one), change (every image at once, until each Rollout is
// past its first step) and promote (from there to Healthy: the
// steps have no indefinite pause, so the second half of the update stands for it), then until the
// update's Events are all written (they go on a budget of their own, after the reconcile) — it prints the
// controller's CPU seconds, peak RSS and its requests by verb and resource as its own client counted
// them (ramp_api_requests_total on its /metrics), the p50/p99 to the first step and to Healthy, and
// the time from start to /readyz with 0 Rollouts; then the figures beside Argo Rollouts' of issue 14.
// Figures only: nothing asserts a time. --chaos runs two replicas behind the Lease, changes every
// image a second time while SIGKILLing the leader twice, and fails unless every Rollout ends Healthy
// with exactly one ReplicaSet per revision.
//
//   node bench/rollouts.ts [--rollouts 100] [--replicas 2] [--workers 10] [--qps 50] [--burst 100] [--chaos]
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { parseDockerfile } from "../scripts/image-recipe.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../src/api/pod-template-hash.ts";
import { freePort } from "../src/dev/processes.ts";
import { devDown, devUp } from "../src/dev/up.ts";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { Informer } from "../src/kube/informer.ts";
import { REVISION_ANNOTATION, type ReplicaSetObject } from "../src/rollout/objects.ts";

const { values: flags } = parseArgs({
  options: {
    rollouts: { type: "string", default: "100" },
    replicas: { type: "string", default: "2" },
    workers: { type: "string", default: "10" },
    qps: { type: "string", default: "50" },
    burst: { type: "string", default: "100" },
    chaos: { type: "boolean", default: false },
    // Writes a heap snapshot of the leader once every rollout is Healthy again, into this folder.
    "heap-snapshot": { type: "string" },
    // Profiles the leader's CPU into this folder and ends the bench after the idle minutes, so the
    // profile's last minute is the second idle one: node bench/cpu-summary.ts <file> --last 60.
    "cpu-profile": { type: "string" },
  },
});
const N = Number(flags.rollouts);
const REPLICAS = Number(flags.replicas);
const QPS = Number(flags.qps);
const NS = "bench";
const CLUSTER = "bench";
const SNAPSHOT_SIGNAL = "SIGUSR2";
/** Node's flags as the image's entrypoint gives them (between node and the script): the controller
 * measured as it is shipped. */
const IMAGE_NODE_FLAGS = parseDockerfile(
  readFileSync(join(import.meta.dirname, "../Dockerfile"), "utf8"),
).config.entrypoint.slice(1, -1);
const ROOT = join(import.meta.dirname, "..");
const ENTRY = join(ROOT, "dist/cli/main.js");
const IDLE_MS = 60_000;
const READY_SAMPLES = 5;
// Generous bounds so that a stuck run ends; they are not assertions about time.
const PHASE_TIMEOUT_MS = Math.max(10 * 60_000, N * 2_000);

/** Argo Rollouts v1.9.1 on this machine (issue 14's table): same cluster, canary, 10 workers, QPS 50 / burst 100. */
const ARGO_AT: Record<number, Partial<Record<Figure, number>>> = {
  100: {
    firstStepP50: 19.9,
    firstStepP99: 22.4,
    allHealthy: 57.9,
    changeCpu: 9.52,
    requestsPerRollout: 41.3,
    requestsPerRolloutAll: 41.3,
    peakRss: 115,
    idleCpu: 0.05,
    // From an audit log that did not show Argo's Lease renewals (client-go's leader renews every 2 s).
    idleRequests: 0,
    idleRequestsButLease: 0,
  },
  500: {
    firstStepP50: 109.5,
    firstStepP99: 116.8,
    allHealthy: 279,
    changeCpu: 53.6,
    requestsPerRollout: 38.1,
    requestsPerRolloutAll: 38.1,
    peakRss: 156,
    idleCpu: 1.32,
  },
};
/** Argo's figures with 0 Rollouts, beside every run's. */
const ARGO_EMPTY: Partial<Record<Figure, number>> = { ready: 0.25 /* 0.2–0.3 s */, idleRss0: 86 };

type Figure =
  | "ready"
  | "idleRss0"
  | "createSeconds"
  | "idleCpuFirst"
  | "idleCpu"
  | "idleRequests"
  | "idleRequestsButLease"
  | "firstStepP50"
  | "firstStepP99"
  | "healthyP50"
  | "healthyP99"
  | "allHealthy"
  | "changeCpu"
  | "requestsPerRollout"
  | "requestsPerRolloutAll"
  | "writesPerRollout"
  | "peakRss";

/** Issue 14's goals: a bound on Ramp's figure given Argo's at this N (undefined: no goal here). */
const GOALS: Partial<Record<Figure, { text: string; bound: (argo: number | undefined) => number | undefined }>> = {
  ready: { text: "≤ 0.5 s", bound: () => 0.5 },
  changeCpu: { text: "≤ 0.4× Argo", bound: (a) => (a === undefined ? undefined : 0.4 * a) },
  requestsPerRollout: { text: "≤ 0.3× Argo", bound: (a) => (a === undefined ? undefined : 0.3 * a) },
  requestsPerRolloutAll: { text: "≤ 0.3× Argo", bound: (a) => (a === undefined ? undefined : 0.3 * a) },
  idleCpu: { text: "≤ Argo at 100", bound: (a) => (N === 100 ? a : undefined) },
  idleRequestsButLease: { text: "≤ Argo at 100", bound: (a) => (N === 100 ? a : undefined) },
  peakRss: { text: "≤ 1.5× Argo at 500", bound: (a) => (N === 500 && a !== undefined ? 1.5 * a : undefined) },
  // Argo was measured at QPS 50: the goal holds at the same QPS only.
  firstStepP99: { text: "≤ 0.4× Argo, same QPS", bound: (a) => (QPS === 50 && a !== undefined ? 0.4 * a : undefined) },
};

/** The least this canary can write per update: the new ReplicaSet created at 1, the old scaled to
 * 1, the new to 2, the old to 0 (4 ReplicaSet writes), and the status twice (the pause's start, so
 * that a restart keeps it; Healthy). Events come on top. */
const WRITE_FLOOR = 6;
const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);

type Rollout = KubeObject & {
  status?: { phase?: string; currentStepIndex?: number; currentPodHash?: string; stableRS?: string; message?: string };
};
type Lease = KubeObject & { spec: { holderIdentity?: string } };

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const seconds = (ms: number) => ms / 1000;
const fmt = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? "—" : n.toFixed(digits));

/** Set when a controller replica exits without being stopped: every wait then fails with its log. */
let died: string | undefined;

async function waitUntil(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs = PHASE_TIMEOUT_MS,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (died) throw new Error(`waiting for ${what}: ${died}`);
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(everyMs);
  }
}

/** One controller process: its CPU and memory from /proc, its requests from its /metrics. */
class Replica {
  readonly identity: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly startedAt = performance.now();
  /** The end of its stderr, shown when the run fails. */
  logTail = "";
  private stopping = false;
  readonly exited: Promise<unknown>;

  constructor(identity: string, port: number, kubeconfig: string, nodeFlags: string[]) {
    this.identity = identity;
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      process.execPath,
      [
        ...IMAGE_NODE_FLAGS,
        ...nodeFlags,
        ...(flags["heap-snapshot"]
          ? [`--heapsnapshot-signal=${SNAPSHOT_SIGNAL}`, `--diagnostic-dir=${flags["heap-snapshot"]}`]
          : []),
        ENTRY,
        "controller",
        `--kubeconfig=${kubeconfig}`,
        `--namespace=${NS}`,
        `--leader-election-namespace=${NS}`,
        `--metrics-port=${port}`,
        `--identity=${identity}`,
        `--workers=${flags.workers}`,
        `--qps=${flags.qps}`,
        `--burst=${flags.burst}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.once("exit", (code, signal) => {
      if (!this.stopping) died ??= `${identity} exited on its own (${signal ?? code}):\n${this.logTail}`;
    });
    const log = join(tmpdir(), `ramp-bench-${identity}-${process.pid}.log`);
    this.child.stderr?.on("data", (c: Buffer) => {
      this.logTail = (this.logTail + c.toString()).slice(-4000);
      appendFileSync(log, c);
    });
  }

  static async start(identity: string, kubeconfig: string, nodeFlags: string[] = []): Promise<Replica> {
    return new Replica(identity, await freePort(), kubeconfig, nodeFlags);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Milliseconds from spawn to /readyz answering 200, polled every 20 ms. */
  async ready(): Promise<number> {
    for (;;) {
      if (performance.now() - this.startedAt > 120_000)
        throw new Error(`${this.identity}: not ready within 120 s:\n${this.logTail}`);
      if (this.child.exitCode !== null) throw new Error(`${this.identity} exited (${this.child.exitCode}):\n${this.logTail}`);
      if (
        await fetch(`${this.url}/readyz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return performance.now() - this.startedAt;
      await sleep(20);
    }
  }

  /** utime+stime in seconds, current and peak RSS in MiB (the peak since the last resetPeak). */
  usage(): { cpuSeconds: number; rssMiB: number; peakRssMiB: number } {
    const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]);
    return {
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100,
      rssMiB: kib("VmRSS") / 1024,
      peakRssMiB: kib("VmHWM") / 1024,
    };
  }

  /** Starts a new peak-RSS window: Linux resets VmHWM to the current RSS on "5" (proc(5), clear_refs). */
  resetPeak(): void {
    writeFileSync(`/proc/${this.pid}/clear_refs`, "5");
  }

  /** ramp_api_requests_total summed over codes, by "resource verb". */
  async requests(): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const counts = new Map<string, number>();
    for (const m of text.matchAll(/^ramp_api_requests_total\{([^}]*)\} (\S+)/gm)) {
      const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      const key = `${labels.resource} ${labels.verb}`;
      counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
    }
    return counts;
  }

  /** Where the memory is, as the process's own metrics say (MiB). */
  async memory(): Promise<string> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const mib = (series: string) =>
      fmt(Number(new RegExp(`^ramp_nodejs_${series} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN) / 2 ** 20, 0);
    const spaces = [...text.matchAll(/^ramp_nodejs_heap_space_size_used_bytes\{space="(\w+)"\} (\S+)/gm)]
      .map((m) => [m[1], Number(m[2]) / 2 ** 20] as const)
      .filter(([, v]) => v >= 1)
      .map(([space, v]) => `${space} ${fmt(v, 0)}`);
    return `heap used ${mib("heap_size_used_bytes")} of ${mib("heap_size_total_bytes")} (${spaces.join(", ")}), external ${mib("external_memory_bytes")}`;
  }

  /** The work queue's depth and the Events not yet written, together. */
  async pending(): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
    return gauge("ramp_workqueue_depth") + gauge("ramp_events_pending");
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.stopping = true;
    this.child.kill(signal);
    const killed = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

interface PhaseResult {
  ms: number;
  cpuSeconds: number;
  peakRssMiB: number;
  requests: Map<string, number>;
}

/** Runs `body` and measures the replicas alive at its start: CPU, peak RSS, requests by resource and verb. */
async function measure(replicas: Replica[], body: () => Promise<void>): Promise<PhaseResult> {
  const before = await Promise.all(replicas.map(async (r) => ({ usage: r.usage(), requests: await r.requests() })));
  for (const r of replicas) r.resetPeak();
  const started = performance.now();
  await body();
  const ms = performance.now() - started;
  const alive = replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  const after = await Promise.all(alive.map(async (r) => ({ r, usage: r.usage(), requests: await r.requests() })));
  const requests = new Map<string, number>();
  let cpuSeconds = 0;
  let peakRssMiB = 0;
  for (const { r, usage, requests: counted } of after) {
    const from = before[replicas.indexOf(r)] as (typeof before)[number];
    cpuSeconds += usage.cpuSeconds - from.usage.cpuSeconds;
    peakRssMiB = Math.max(peakRssMiB, usage.peakRssMiB);
    for (const [k, v] of counted) {
      const delta = v - (from.requests.get(k) ?? 0);
      if (delta > 0) requests.set(k, (requests.get(k) ?? 0) + delta);
    }
  }
  return { ms, cpuSeconds, peakRssMiB, requests };
}

const total = (requests: Map<string, number>) => [...requests.values()].reduce((a, b) => a + b, 0);
const writes = (requests: Map<string, number>) =>
  [...requests].filter(([k]) => WRITE_VERBS.has(k.split(" ")[1] ?? "")).reduce((a, [, v]) => a + v, 0);

function printPhase(title: string, result: PhaseResult, perRollout: boolean): void {
  const count = total(result.requests);
  console.log(
    `\n== ${title}: ${fmt(seconds(result.ms), 1)} s${flags.chaos ? " (CPU and requests: leader and standby together)" : ""}`,
  );
  console.log(
    `   CPU ${fmt(result.cpuSeconds)} s   peak RSS ${fmt(result.peakRssMiB, 0)} MiB   requests ${count}${perRollout ? ` = ${fmt(count / N)} per rollout (${fmt(writes(result.requests) / N)} writes)` : ""}`,
  );
  for (const [k, v] of [...result.requests].sort((a, b) => b[1] - a[1]))
    console.log(`     ${k.padEnd(36)} ${String(v).padStart(7)}${perRollout ? `  ${fmt(v / N)}/rollout` : ""}`);
}

const sum = (a: PhaseResult, b: PhaseResult): PhaseResult => {
  const requests = new Map(a.requests);
  for (const [k, v] of b.requests) requests.set(k, (requests.get(k) ?? 0) + v);
  return { ms: a.ms + b.ms, cpuSeconds: a.cpuSeconds + b.cpuSeconds, peakRssMiB: Math.max(a.peakRssMiB, b.peakRssMiB), requests };
};

const name = (i: number) => `b${i}`;
const template = (i: number, image: string) => ({
  metadata: { labels: { app: name(i) } },
  spec: { containers: [{ name: "app", image }] },
});

/** Each Rollout's progress through one update, from the bench's own watch. */
class Progress {
  readonly firstStepAt = new Map<string, number>();
  readonly healthyAt = new Map<string, number>();
  readonly latest = new Map<string, Rollout>();
  /** The stable pod hash each Rollout had before the change. */
  private fromHash = new Map<string, string | undefined>();
  private changedAt = Number.POSITIVE_INFINITY;

  /** Forgets the last update and starts timing a new one from now. */
  change(): void {
    this.firstStepAt.clear();
    this.healthyAt.clear();
    this.fromHash = new Map([...this.latest].map(([k, r]) => [k, r.status?.stableRS]));
    this.changedAt = performance.now();
  }

  seen(r: Rollout): void {
    const key = r.metadata.name ?? "";
    this.latest.set(key, r);
    const s = r.status;
    if (performance.now() < this.changedAt || !s?.currentPodHash || s.currentPodHash === this.fromHash.get(key)) return;
    const since = performance.now() - this.changedAt;
    // The first step is done once the new revision's status has moved past step 0.
    if ((s.currentStepIndex ?? 0) >= 1 && !this.firstStepAt.has(key)) this.firstStepAt.set(key, since);
    if (s.phase === "Healthy" && s.stableRS === s.currentPodHash && !this.healthyAt.has(key)) {
      if (!this.firstStepAt.has(key)) this.firstStepAt.set(key, since);
      this.healthyAt.set(key, since);
    }
  }

  healthyCount(): number {
    return [...this.latest.values()].filter((r) => r.status?.phase === "Healthy").length;
  }

  /** Sorted seconds of a map of milliseconds. */
  static sorted(times: Map<string, number>): number[] {
    return [...times.values()].map(seconds).sort((a, b) => a - b);
  }
}

async function main() {
  const commit = spawnSync("git", ["-C", ROOT, "describe", "--always", "--dirty"], { encoding: "utf8" }).stdout.trim();
  console.log(
    `bench at ${commit} (${new Date().toISOString()}): ${N} rollouts x ${REPLICAS} replicas, workers ${flags.workers}, qps ${flags.qps} (burst ${flags.burst})${flags.chaos ? ", chaos: 2 replicas, the leader SIGKILLed twice" : ""}; node ${IMAGE_NODE_FLAGS.join(" ") || "(no flags)"} as the image runs it`,
  );
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.ts")], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("npm run build failed");
  const cluster = await devUp({ name: CLUSTER, nodes: 3, log: (line) => console.log(`dev: ${line}`) });
  const kube = new KubeClient({ kubeconfig: cluster.kubeconfig, fieldManager: "ramp-bench", qps: 500, burst: 1000 });
  const replicas: Replica[] = [];
  let informer: Informer<Rollout> | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanUp = () => {
    cleaned ??= (async () => {
      informer?.stop();
      await Promise.all(replicas.map((r) => r.stop()));
      await devDown(CLUSTER);
    })();
    return cleaned;
  };
  // Stopped from outside (Ctrl-C, a timeout): the controllers and the cluster go too.
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  const figures: Partial<Record<Figure, number>> = {};
  try {
    await kube.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    // Time to ready, median of 5 starts; each one stopped releases the Lease, which says 1 s, so the
    // next starts after that and takes it at its first try.
    const readyTimes: number[] = [];
    for (let i = 0; i < READY_SAMPLES - 1; i++) {
      const trial = await Replica.start("replica-a", cluster.kubeconfig);
      readyTimes.push(seconds(await trial.ready()));
      await trial.stop();
      await sleep(1_500);
    }
    const profile = flags["cpu-profile"];
    const leader = await Replica.start(
      "replica-a",
      cluster.kubeconfig,
      profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`, "--cpu-prof-interval=500"] : [],
    );
    replicas.push(leader);
    readyTimes.push(seconds(await leader.ready()));
    readyTimes.sort((a, b) => a - b);
    figures.ready = quantile(readyTimes, 0.5);
    if (flags.chaos) {
      const standby = await Replica.start("replica-b", cluster.kubeconfig);
      replicas.push(standby);
      await standby.ready();
    }
    await sleep(5_000); // settled: what a controller with nothing to do holds
    figures.idleRss0 = leader.usage().rssMiB;
    console.log(
      `\nstart to /readyz with 0 rollouts: median ${fmt(figures.ready)} s of [${readyTimes.map((t) => fmt(t)).join(", ")}]; RSS 5 s later ${fmt(figures.idleRss0, 0)} MiB`,
    );

    const progress = new Progress();
    informer = new Informer<Rollout>(kube, {
      apiVersion: "ramp.dev/v1alpha1",
      kind: "Rollout",
      namespace: NS,
      resyncMs: 0,
      onChange: (_t, r) => progress.seen(r),
    });
    await informer.start();

    const create = await measure(replicas, async () => {
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          kube.create({
            apiVersion: "ramp.dev/v1alpha1",
            kind: "Rollout",
            metadata: { name: name(i), namespace: NS },
            spec: {
              replicas: REPLICAS,
              selector: { matchLabels: { app: name(i) } },
              template: template(i, "app:1"),
              strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: "5s" } }, { setWeight: 100 }] } },
            },
          }),
        ),
      );
      await waitUntil(`${N} rollouts Healthy`, () => progress.healthyCount() === N);
    });
    figures.createSeconds = seconds(create.ms);
    printPhase(`create: ${N} rollouts created until all Healthy`, create, true);

    // Idle once the create's work is done: the queue empty and its Events written.
    // Polled every 2 s, not 100 ms: at 1000 rollouts /metrics is 600 KB, and scraping it ten times
    // a second would be most of what the process does while it waits.
    await waitUntil(
      "the work queue empty and the Events written",
      async () => (await leader.pending()) === 0,
      PHASE_TIMEOUT_MS,
      2_000,
    );
    // Two minutes: the first still has the create's garbage collected (V8's memory reducer runs full
    // collections once allocation stops); the second is the steady state the goal is about.
    const afterCreate = await measure(replicas, () => sleep(IDLE_MS));
    figures.idleCpuFirst = afterCreate.cpuSeconds;
    printPhase(`idle, first minute after the create (its garbage collected): ${IDLE_MS / 1000} s`, afterCreate, false);
    const idle = await measure(replicas, () => sleep(IDLE_MS));
    figures.idleCpu = idle.cpuSeconds;
    figures.idleRequests = total(idle.requests);
    figures.idleRequestsButLease = total(new Map([...idle.requests].filter(([k]) => !k.startsWith("leases "))));
    printPhase(`idle: the next ${IDLE_MS / 1000} s with ${N} Healthy rollouts`, idle, false);
    if (profile) {
      await leader.stop();
      console.log(`\n   the leader's CPU profile is in ${profile}: node bench/cpu-summary.ts <file> --last ${IDLE_MS / 1000}`);
      return;
    }

    const setImage = (image: string) =>
      Promise.all(
        Array.from({ length: N }, (_, i) =>
          kube.patch("ramp.dev/v1alpha1", "Rollout", name(i), NS, { spec: { template: template(i, image) } }),
        ),
      );
    progress.change();
    const change = await measure(replicas, async () => {
      await setImage("app:2");
      await waitUntil("every rollout at its first step", () => progress.firstStepAt.size === N);
    });
    const rssNow = leader.usage().rssMiB;
    console.log(
      `\n   leader's memory with every rollout past its first step: RSS ${fmt(rssNow, 0)} MiB; ${await leader.memory()}`,
    );
    const promote = await measure(replicas, () =>
      waitUntil("every rollout Healthy at app:2", () => progress.healthyAt.size === N),
    );
    const firstStep = Progress.sorted(progress.firstStepAt);
    const healthy = Progress.sorted(progress.healthyAt);
    if (flags["heap-snapshot"]) {
      // After the phases, as writing one stops the process for seconds and takes memory of its own.
      leader.child.kill(SNAPSHOT_SIGNAL);
      console.log(
        `\n   heap snapshot asked for (${SNAPSHOT_SIGNAL}) into ${flags["heap-snapshot"]}; read it with node bench/heap-summary.ts <file>`,
      );
    }
    // Events go on a budget of their own, after the reconcile: some are still queued when the last
    // rollout is Healthy. They are the update's too.
    const trailing = await measure(replicas, () =>
      waitUntil("the update's Events written", async () => (await leader.pending()) === 0, PHASE_TIMEOUT_MS, 2_000),
    );
    const secondHalf = [...progress.healthyAt]
      .map(([k, t]) => seconds(t - (progress.firstStepAt.get(k) ?? t)))
      .sort((a, b) => a - b);
    printPhase("change: every image at once, until every rollout is past its first step", change, true);
    printPhase("promote: from there until every rollout is Healthy (the pause 5s, setWeight 100, promotion)", promote, true);
    const whole = sum(change, promote);
    const withEvents = sum(whole, trailing);
    printPhase("change + promote: the whole update", whole, true);
    printPhase("after: the update's Events still queued at the last Healthy, until written", trailing, true);
    console.log(
      `   change -> first step p50 ${fmt(quantile(firstStep, 0.5))} s  p99 ${fmt(quantile(firstStep, 0.99))} s  max ${fmt(firstStep.at(-1))} s`,
    );
    console.log(
      `   first step -> Healthy p50 ${fmt(quantile(secondHalf, 0.5))} s  p99 ${fmt(quantile(secondHalf, 0.99))} s  (of which the pause: 5 s)`,
    );
    console.log(
      `   change -> Healthy p50 ${fmt(quantile(healthy, 0.5))} s  p99 ${fmt(quantile(healthy, 0.99))} s  all ${fmt(healthy.at(-1))} s`,
    );
    Object.assign(figures, {
      firstStepP50: quantile(firstStep, 0.5),
      firstStepP99: quantile(firstStep, 0.99),
      healthyP50: quantile(healthy, 0.5),
      healthyP99: quantile(healthy, 0.99),
      allHealthy: healthy.at(-1),
      changeCpu: withEvents.cpuSeconds,
      requestsPerRollout: total(whole.requests) / N,
      requestsPerRolloutAll: total(withEvents.requests) / N,
      writesPerRollout: writes(whole.requests) / N,
      peakRss: withEvents.peakRssMiB,
    });

    printReference(figures);
    if (flags.chaos) await chaos(kube, cluster.kubeconfig, replicas, progress, setImage, seconds(whole.ms));
  } catch (err) {
    for (const r of replicas) console.error(`--- ${r.identity} (pid ${r.pid}), last of its log:\n${r.logTail}`);
    throw err;
  } finally {
    await cleanUp();
  }
}

function printReference(figures: Partial<Record<Figure, number>>): void {
  const argo = { ...ARGO_EMPTY, ...ARGO_AT[N] };
  const rows: [Figure, string][] = [
    ["ready", "start to ready, 0 rollouts (s)"],
    ["idleRss0", "RSS idle, 0 rollouts (MiB)"],
    ["createSeconds", "create -> all Healthy (s)"],
    ["idleCpuFirst", "idle CPU, minute 1 after create (s)"],
    ["idleCpu", "idle CPU over 60 s, minute 2 (s)"],
    ["idleRequests", "idle requests over 60 s"],
    ["idleRequestsButLease", "  of them not the Lease's"],
    ["firstStepP50", "change -> first step p50 (s)"],
    ["firstStepP99", "change -> first step p99 (s)"],
    ["healthyP50", "change -> Healthy p50 (s)"],
    ["healthyP99", "change -> Healthy p99 (s)"],
    ["allHealthy", "change -> all Healthy (s)"],
    ["changeCpu", "CPU for the change, its Events too (s)"],
    ["requestsPerRollout", "requests per rollout, to all Healthy"],
    ["requestsPerRolloutAll", "  with the Events written after"],
    ["writesPerRollout", `writes per rollout (floor ${WRITE_FLOOR})`],
    ["peakRss", "peak RSS, the change and its Events (MiB)"],
  ];
  console.log(
    `\n== Ramp against Argo Rollouts v1.9.1 (issue 14${ARGO_AT[N] ? `, N=${N}, QPS 50` : `: at N=${N} only its figures with 0 rollouts`}; Ramp at N=${N}, QPS ${flags.qps}, ${flags.workers} workers)`,
  );
  console.log(`${"figure".padEnd(36)}${"Ramp".padStart(9)}${"Argo".padStart(9)}${"ratio".padStart(8)}   ${"goal".padEnd(30)}met`);
  for (const [figure, label] of rows) {
    const ramp = figures[figure];
    const a = argo[figure];
    const goal = GOALS[figure];
    const bound = goal?.bound(a);
    const ratio = ramp !== undefined && a ? ramp / a : undefined;
    const goalText = goal && bound !== undefined ? `${goal.text} (${fmt(bound)})` : "";
    const met = bound === undefined || ramp === undefined ? "" : ramp <= bound ? "yes" : "no";
    const digits =
      figure === "idleRequests" || figure === "idleRequestsButLease" ? 0 : figure === "idleRss0" || figure === "peakRss" ? 0 : 2;
    console.log(
      `${label.padEnd(36)}${fmt(ramp, digits).padStart(9)}${(figure === "ready" ? "0.2–0.3" : fmt(a, digits)).padStart(9)}${fmt(ratio).padStart(8)}   ${goalText.padEnd(30)}${met}`,
    );
  }
  if (figures.writesPerRollout !== undefined)
    console.log(
      `writes per rollout ${fmt(figures.writesPerRollout)} = ${fmt(figures.writesPerRollout / WRITE_FLOOR)}× the floor of ${WRITE_FLOOR}`,
    );
}

/** The second change with two replicas: the leader SIGKILLed once a third of the fleet is past its
 * first step and again once a quarter is Healthy (after the first takeover); a killed replica is
 * started again as the new standby. Throws unless the fleet ends right. */
async function chaos(
  kube: KubeClient,
  kubeconfig: string,
  replicas: Replica[],
  progress: Progress,
  setImage: (image: string) => Promise<unknown>,
  calmSeconds: number,
): Promise<void> {
  const holder = async () =>
    (await kube.get<Lease>("coordination.k8s.io/v1", "Lease", "ramp-controller", NS)).spec.holderIdentity;
  const kills: string[] = [];
  let spawned = replicas.length;
  const killLeader = async () => {
    const identity = await holder();
    const victim = replicas.find((r) => r.identity === identity && r.child.exitCode === null && r.child.signalCode === null);
    if (!victim) throw new Error(`the Lease names ${identity}, which is no running replica`);
    const at = performance.now();
    await victim.stop("SIGKILL");
    const line = `SIGKILL ${victim.identity} with ${progress.firstStepAt.size} past the first step, ${progress.healthyAt.size} Healthy`;
    const successor = await Replica.start(`replica-${String.fromCharCode(97 + spawned++)}`, kubeconfig);
    replicas.push(successor);
    await waitUntil("a standby takes the Lease", async () => {
      const now = await holder();
      return now !== undefined && now !== victim.identity;
    });
    kills.push(`${line}; ${await holder()} leads after ${fmt(seconds(performance.now() - at), 1)} s`);
    await successor.ready();
  };

  console.log("\n== chaos: every image changed again, the leader SIGKILLed twice");
  progress.change();
  const started = performance.now();
  await setImage("app:3");
  await waitUntil("a third of the fleet past its first step", () => progress.firstStepAt.size >= N / 3);
  await killLeader();
  await waitUntil("a quarter of the fleet Healthy", () => progress.healthyAt.size >= N / 4);
  await killLeader();
  for (const k of kills) console.log(`   ${k}`);
  const settled = await waitUntil("every rollout Healthy at app:3", () => progress.healthyAt.size === N).then(
    () => true,
    () => false,
  );
  const fleetSeconds = seconds(performance.now() - started);
  const problems: string[] = [];
  if (!settled) {
    for (const [key, r] of progress.latest)
      if (!progress.healthyAt.has(key)) problems.push(`${key} stuck: ${r.status?.phase} ${r.status?.message ?? ""}`);
  }
  // Exactly one ReplicaSet per revision of each Rollout (and per pod-template hash); once the old
  // ones are scaled down, only the newest runs pods.
  let sets: ReplicaSetObject[] = [];
  let rsProblems: string[] = [];
  const replicaSetsRight = async () => {
    sets = await kube.list<ReplicaSetObject>("apps/v1", "ReplicaSet", NS);
    const byRollout = new Map<string, ReplicaSetObject[]>();
    for (const rs of sets) {
      const owner = rs.metadata.ownerReferences?.find((o) => o.controller)?.name ?? "(none)";
      byRollout.set(owner, [...(byRollout.get(owner) ?? []), rs]);
    }
    const found: string[] = [];
    for (let i = 0; i < N; i++) {
      const own = byRollout.get(name(i)) ?? [];
      const revisions = own.map((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION]);
      const hashes = own.map((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL]);
      const scaled = own.map((rs) => rs.spec.replicas ?? 1);
      const newest = revisions.indexOf("3");
      if (own.length !== 3 || new Set(revisions).size !== 3 || new Set(hashes).size !== 3)
        found.push(`${name(i)}: ${own.length} ReplicaSets, revisions [${revisions.join(", ")}], hashes [${hashes.join(", ")}]`);
      else if (scaled.some((n, j) => n !== (j === newest ? REPLICAS : 0)))
        found.push(`${name(i)}: replicas [${scaled.join(", ")}] for revisions [${revisions.join(", ")}]`);
    }
    if (byRollout.has("(none)")) found.push(`${byRollout.get("(none)")?.length} ReplicaSets with no controller`);
    rsProblems = found;
    return found.length === 0;
  };
  await waitUntil("one ReplicaSet per revision, the old ones scaled to 0", replicaSetsRight, 60_000, 1_000).catch(() =>
    problems.push(...rsProblems),
  );
  console.log(
    `   fleet took ${fmt(fleetSeconds, 1)} s with 2 kills, against ${fmt(calmSeconds, 1)} s for the same change without kills (${fmt(fleetSeconds / calmSeconds)}×)`,
  );
  console.log(
    `   every rollout Healthy: ${settled ? "yes" : "no"}; exactly one ReplicaSet per revision, only the newest scaled up: ${rsProblems.length ? "no" : "yes"} (${sets.length} ReplicaSets for ${N} rollouts x 3 revisions)`,
  );
  if (problems.length) throw new Error(`chaos: the fleet did not end right:\n  ${problems.slice(0, 50).join("\n  ")}`);
}

await main();
