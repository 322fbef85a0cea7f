// `ramp fleet status|promote|abort|controller`: FleetRollouts in a management cluster. The
// coordinator runs behind its own Lease (ramp-fleet-controller), like `ramp controller`.
import { hostname } from "node:os";
import type { Command } from "commander";
import type { FleetRolloutStatus } from "../api/fleet.ts";
import { API_VERSION } from "../api/group.ts";
import { FleetController, type FleetObject } from "../fleet/controller.ts";
import { fleetOutcome, renderFleet } from "../fleet/render.ts";
import type { KubeClient } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import type { LogFormat, LogLevel } from "../kube/log.ts";
import { leaseNamespace } from "../kube/pod-defaults.ts";
import { OutboundDoor, outboundPolicy } from "../net/outbound.ts";
import { ControllerMetrics } from "../server/metrics.ts";
import { collect, duration, flagLogger, int, logOptions } from "./controller.ts";
import { ExitError } from "./errors.ts";
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags, kubeClient, kubeOptions, namespaceOf } from "./kube-options.ts";
import { backgroundClient, eventRecorder, runLeaderElected } from "./runtime.ts";
import { VERSION } from "./version.ts";

interface StatusFlags extends KubeFlags {
  watch?: boolean;
  timeout: number;
}

interface FleetControllerFlags extends KubeFlags {
  logFormat: LogFormat;
  logLevel: LogLevel;
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity: string;
  memberTimeout: number;
  outboundAllow: string[];
  outboundDeny: string[];
  outboundAllowLoopback: boolean;
}

export function registerFleet(program: Command): void {
  const fleet = program.command("fleet").description("release across clusters in waves (FleetRollouts in a management cluster)");
  kubeOptions(
    fleet
      .command("status <fleetrollout>")
      .description("the fleet, its waves and clusters; -w: until it ends (exit 0 Healthy, 1 stopped, 2 timed out)"),
  )
    .option("-w, --watch", "print again on each change, until the fleet is Healthy, Degraded or rolled back")
    .option("--timeout <duration>", "with -w: how long to wait", duration("--timeout"), 600_000)
    .action(async (name: string, flags: StatusFlags) => {
      await status(name, flags);
    });
  kubeOptions(fleet.command("promote <fleetrollout>").description("skip the current wave's soak and analysis")).action(
    async (name: string, flags: KubeFlags) => {
      await intent(name, flags, { promote: true }, "promoted");
    },
  );
  kubeOptions(
    fleet
      .command("abort <fleetrollout>")
      .description("stop the fleet: no further wave starts; onFailure applies (pause or rollback)"),
  ).action(async (name: string, flags: KubeFlags) => {
    await intent(name, flags, { abort: true }, "aborted");
  });
  const controller = kubeOptions(
    fleet.command("controller").description("run the fleet coordinator (leader-elected; serves /healthz, /readyz and /metrics)"),
    "handle FleetRollouts in this namespace only (default: all)",
  )
    .option("--metrics-host <host>", "address of the health and metrics server", "127.0.0.1")
    .option("--metrics-port <port>", "port of the health and metrics server (0: any free one)", int, 8091)
    .option("--no-leader-elect", "reconcile without a Lease (only one replica may run)")
    .option("--leader-election-namespace <ns>", "namespace of the Lease (default: as `ramp controller`)")
    .option("--lease-duration <d>", "how long a leader's Lease holds without renewal", duration("--lease-duration"), 15_000)
    .option(
      "--renew-deadline <d>",
      "how long the leader tries to renew before it stops leading",
      duration("--renew-deadline"),
      10_000,
    )
    .option("--retry-period <d>", "time between Lease attempts", duration("--retry-period"), 2_000)
    .option("--identity <id>", "this replica's name in the Lease", `${hostname()}_${process.pid}`)
    .option(
      "--member-timeout <d>",
      "a member apiserver silent this long counts as unreachable",
      duration("--member-timeout"),
      5_000,
    )
    .option("--outbound-allow <host|CIDR>", "member apiservers may be only these (repeatable)", collect, [])
    .option("--outbound-deny <host|CIDR>", "never reach these (repeatable)", collect, [])
    .option("--outbound-allow-loopback", "allow loopback member apiservers (dev clusters and tests)", false);
  logOptions(controller).action(async (flags: FleetControllerFlags) => {
    await runFleetController(flags);
  });
}

async function status(name: string, flags: StatusFlags): Promise<void> {
  const client = kubeClient(flags, {}, DEFAULT_REQUEST_TIMEOUT);
  const ns = namespaceOf(flags, client);
  const read = () => client.get<FleetObject>(API_VERSION, "FleetRollout", name, ns);
  const fleet = await read();
  const shown = renderFleet(name, ns, fleet.status);
  console.log(shown);
  if (!flags.watch) return;
  process.exitCode = await follow(client, ns, name, fleet, shown, flags.timeout);
}

/** Follows a watch of the one FleetRollout, printing each changed view, until it is Healthy (0) or
 * stopped (1); out of time is exit 2, the object gone or unreadable exit 3. */
function follow(client: KubeClient, ns: string, name: string, first: FleetObject, firstShown: string, timeoutMs: number) {
  let shown = firstShown;
  return new Promise<number>((resolve, reject) => {
    const informer = new Informer<FleetObject>(client, {
      apiVersion: API_VERSION,
      kind: "FleetRollout",
      namespace: ns,
      fieldSelector: `metadata.name=${name}`,
      onChange: (type, fleet) => {
        if (type === "DELETED") return end(() => reject(new ExitError(new Error(`FleetRollout ${ns}/${name} was deleted`), 3)));
        check(fleet);
      },
      onError: (err) => end(() => reject(new ExitError(err, 3))),
    });
    const limit = setTimeout(
      () => end(() => reject(new ExitError(new Error(`timed out waiting for FleetRollout ${ns}/${name}`), 2))),
      timeoutMs,
    );
    let ended = false;
    const end = (how: () => void) => {
      if (ended) return;
      ended = true;
      clearTimeout(limit);
      informer.stop();
      how();
    };
    const check = (fleet: FleetObject) => {
      const text = renderFleet(name, ns, fleet.status);
      if (text !== shown) console.log(`\n${text}`);
      shown = text;
      const code = fleetOutcome(fleet.status, fleet.metadata.generation ?? 0);
      if (code !== undefined) end(() => resolve(code));
    };
    check(first);
    if (!ended) informer.start().catch((err: unknown) => end(() => reject(new ExitError(err, 3))));
  });
}

/** Records a person's intent in the status, as `ramp abort` does for a Rollout. */
async function intent(name: string, flags: KubeFlags, change: Partial<FleetRolloutStatus>, done: string): Promise<void> {
  const client = kubeClient(flags, { fieldManager: "ramp-cli" }, DEFAULT_REQUEST_TIMEOUT);
  const ns = namespaceOf(flags, client);
  await client.patch(API_VERSION, "FleetRollout", name, ns, { status: change }, { subresource: "status" });
  console.log(`fleetrollout ${ns}/${name} ${done}`);
}

async function runFleetController(flags: FleetControllerFlags): Promise<void> {
  const { logger, log } = flagLogger("ramp fleet controller", flags);
  let controller: FleetController | undefined;
  const metrics = new ControllerMetrics({
    queueDepth: () => controller?.queueDepth ?? 0,
    version: VERSION,
    eventsDropped: () => events.droppedCount,
    eventsPending: () => events.pendingCount,
  });
  const clientOptions = {
    fieldManager: "ramp-fleet-controller",
    onResponse: (method: string, code: number, { url }: { url: URL }) => metrics.apiRequest(method, url, code),
  };
  const client = kubeClient(flags, clientOptions, DEFAULT_REQUEST_TIMEOUT);
  const events = eventRecorder(backgroundClient(flags, clientOptions), log);
  const outbound = new OutboundDoor(
    await outboundPolicy(
      { allow: flags.outboundAllow, deny: flags.outboundDeny, allowLoopback: flags.outboundAllowLoopback },
      client.server,
    ),
  );
  controller = new FleetController(client, {
    outbound,
    identity: flags.identity,
    memberTimeoutMs: flags.memberTimeout,
    log,
    onReconciled: (outcome, seconds) => metrics.reconciled(outcome, seconds),
    events,
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  });
  await runLeaderElected({
    flags,
    active: controller,
    metrics,
    clientOptions,
    events,
    lease: {
      namespace: leaseNamespace({ flag: flags.leaderElectionNamespace, env: process.env, serviceAccountNamespace: undefined }),
      name: "ramp-fleet-controller",
    },
    log,
    logger,
  });
}
