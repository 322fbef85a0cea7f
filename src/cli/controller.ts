// `ramp controller`: the Rollout controller with its health and metrics server, behind a Lease so
// that several replicas are safe (only the leader reconciles and writes).
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { type Command, Option } from "commander";
import type { FastifyInstance } from "fastify";
import { durationFlag } from "../api/duration.ts";
import type { KubeClient } from "../kube/client.ts";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type Log, type LogFormat, type LogLevel } from "../kube/log.ts";
import { leaseNamespace, SERVICE_ACCOUNT_NAMESPACE_FILE } from "../kube/pod-defaults.ts";
import { OutboundDoor, outboundPolicy } from "../net/outbound.ts";
import { type ControllerSet, controllerSet } from "../runtime/controllers.ts";
import { ControllerMetrics } from "../server/metrics.ts";
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags, kubeClient, kubeOptions } from "./kube-options.ts";
import { backgroundClient, eventRecorder, runLeaderElected } from "./runtime.ts";
import { VERSION } from "./version.ts";

interface ControllerFlags extends KubeFlags {
  instanceId?: string;
  workers: number;
  qps: number;
  burst: number;
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  /** Milliseconds: read by the strict duration parser when the flags are parsed, before anything starts. */
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity: string;
  analysis: boolean;
  prometheusUrl?: string;
  notifications: boolean;
  dashboard?: boolean;
  jobProvider?: boolean;
  notificationsConfigmap: string;
  logFormat: LogFormat;
  logLevel: LogLevel;
  outboundAllow: string[];
  outboundDeny: string[];
  outboundAllowLoopback: boolean;
  metricsMaxRollouts: number;
}

export const collect = (v: string, all: string[]) => [...all, v];

/** A duration flag's parser: a bad value (`10x5m`, `1d`, `30`) stops the command before it starts. */
export const duration = (flag: string) => (v: string) => durationFlag(flag, v);

export const int = (v: string) => {
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a whole number, got "${v}"`);
  return n;
};

/** --qps: a whole number, 0 for none; "1.5", "5x", "-1" or "NaN" stop the command with what was wrong. */
export const qpsFlag = (v: string) => {
  if (!/^\d+$/.test(v.trim()))
    throw new Error(`--qps: expected a whole number of requests per second, 0 for no client-side limit; got "${v}"`);
  return Number(v);
};

/** --log-format and --log-level, shared by `ramp controller` and `ramp fleet controller`. */
export function logOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--log-format <format>", "text: a readable line per record; json: pino's JSON lines")
        .choices(LOG_FORMATS)
        .default("text"),
    )
    .addOption(new Option("--log-level <level>", "the least severe records written").choices(LOG_LEVELS).default("info"));
}

/** The logger the log flags ask for, and a Log writing to it (each component says how much its line
 * matters). */
export function flagLogger(name: string, flags: { logFormat: LogFormat; logLevel: LogLevel }) {
  const logger = createLogger({ name, format: flags.logFormat, level: flags.logLevel });
  const log: Log = (line, level = "info") => logger[level](line);
  return { logger, log };
}

export function registerController(program: Command): void {
  const command = kubeOptions(
    program
      .command("controller")
      .description("run the Rollout controller (leader-elected; serves /healthz, /readyz and /metrics)"),
    "handle Rollouts in this namespace only (default: all)",
  )
    .option("--instance-id <id>", "handle only Rollouts labelled ramp.dev/controller-instance-id=<id>")
    .option("--workers <n>", "Rollouts reconciled at once", int, 4)
    .option(
      "--qps <n>",
      "apiserver requests per second (0: no client-side limit; the apiserver's Priority and Fairness throttles, its 429 Retry-After is honoured)",
      qpsFlag,
      50,
    )
    .option("--burst <n>", "apiserver request burst", int, 100)
    .option("--metrics-host <host>", "address of the health and metrics server", "127.0.0.1")
    .option("--metrics-port <port>", "port of the health and metrics server (0: any free one)", int, 8090)
    .option(
      "--metrics-max-rollouts <n>",
      "Rollouts with metric series of their own; the others are counted under namespace and name _other",
      int,
      500,
    )
    .option("--no-leader-elect", "reconcile without a Lease (only one replica may run)")
    .option(
      "--leader-election-namespace <ns>",
      "namespace of the Lease (default: POD_NAMESPACE, RAMP_NAMESPACE, the pod's ServiceAccount namespace, else default)",
    )
    .option("--lease-duration <d>", "how long a leader's Lease holds without renewal", duration("--lease-duration"), 15_000)
    .option(
      "--renew-deadline <d>",
      "how long the leader tries to renew before it stops leading",
      duration("--renew-deadline"),
      10_000,
    )
    .option("--retry-period <d>", "time between Lease attempts", duration("--retry-period"), 2_000)
    .option("--identity <id>", "this replica's name in the Lease", `${hostname()}_${process.pid}`)
    .option("--prometheus-url <url>", "Prometheus for metrics that name no address", process.env.RAMP_PROMETHEUS_URL)
    .option("--no-analysis", "leave AnalysisRuns to another controller (or to a test that sets their phase)")
    .option(
      "--notifications-configmap <[namespace/]name>",
      "notification destinations and subscriptions (default namespace: the Lease's); none sent while it is absent",
      "ramp-notifications",
    )
    .option("--no-notifications", "send no notifications")
    .option(
      "--job-provider",
      "run job metrics: their Jobs are created with the controller's rights, in the run's namespace (off by default; docs/security.md)",
    )
    .option(
      "--dashboard",
      "also serve the web dashboard on the metrics port; every request needs a bearer token, each read and action is checked with a SubjectAccessReview",
    );
  logOptions(command)
    .option(
      "--outbound-allow <host|CIDR>",
      "gates, notifications and Prometheus may reach only these (repeatable; *.example.com, 10.0.0.0/8); default: any not denied",
      collect,
      [],
    )
    .option("--outbound-deny <host|CIDR>", "never reach these (repeatable), beside the built-in denials", collect, [])
    .option(
      "--outbound-allow-loopback",
      "allow loopback destinations (dev clusters and tests; the apiserver stays denied)",
      false,
    )
    .action(async (flags: ControllerFlags) => {
      await runController(flags);
    });
}

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE_FILE, "utf8");
  } catch {
    return undefined; // not in a pod
  }
}

async function runController(flags: ControllerFlags): Promise<void> {
  const namespaceOfLease = leaseNamespace({
    flag: flags.leaderElectionNamespace,
    env: process.env,
    serviceAccountNamespace: serviceAccountNamespace(),
  });
  // Failures the shell itself sees are errors.
  const { logger, log } = flagLogger("ramp controller", flags);
  logger.debug(`Lease namespace: ${namespaceOfLease}`);
  // The metrics need the controllers' queues and the controllers need the client: wire them by reference.
  let active: ControllerSet | undefined;
  const metrics = new ControllerMetrics({
    queueDepth: () => active?.queueDepth ?? 0,
    version: VERSION,
    notificationsPending: () => active?.notificationsPending ?? 0,
    notificationsUnwritten: () => active?.notificationsUnwritten ?? 0,
    eventsDropped: () => events.droppedCount,
    eventsPending: () => events.pendingCount,
    maxRollouts: flags.metricsMaxRollouts,
  });
  const clientOptions = {
    fieldManager: "ramp-controller",
    qps: flags.qps,
    burst: flags.burst,
    onResponse: (method: string, code: number, { url }: { url: URL }) => metrics.apiRequest(method, url, code),
  };
  // A hung apiserver connection must fail and be retried, not stall a reconcile or a watch for ever.
  const client = kubeClient(flags, clientOptions, DEFAULT_REQUEST_TIMEOUT);
  const background = backgroundClient(flags, clientOptions);
  const events = eventRecorder(background, log);
  const outbound = new OutboundDoor(
    await outboundPolicy(
      { allow: flags.outboundAllow, deny: flags.outboundDeny, allowLoopback: flags.outboundAllowLoopback },
      client.server,
    ),
  );
  const [cmNamespace, cmName] = flags.notificationsConfigmap.includes("/")
    ? flags.notificationsConfigmap.split("/", 2)
    : [namespaceOfLease, flags.notificationsConfigmap];
  active = controllerSet(client, {
    outbound,
    events,
    background,
    log,
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.instanceId ? { instanceId: flags.instanceId } : {}),
    workers: flags.workers,
    identity: flags.identity,
    observer: metrics,
    onWatchFailure: (kind: string) => metrics.watchFailure(kind),
    analysis: flags.analysis && {
      jobProvider: flags.jobProvider === true,
      ...(flags.prometheusUrl ? { prometheusUrl: flags.prometheusUrl } : {}),
    },
    ...(flags.notifications
      ? {
          notifications: {
            configMap: { namespace: cmNamespace as string, name: cmName as string },
            userAgent: `ramp/${VERSION}`,
          },
        }
      : {}),
  });
  const dashboard = flags.dashboard ? await dashboardPlugin(client, flags.namespace) : undefined;
  await runLeaderElected({
    flags,
    active,
    metrics,
    clientOptions,
    events,
    lease: {
      namespace: namespaceOfLease,
      name: flags.instanceId ? `ramp-controller-${flags.instanceId}` : "ramp-controller",
    },
    log,
    logger,
    ...(dashboard ? { routes: dashboard.routes } : {}),
    onStopped: () => dashboard?.stop(),
    onLostLease: () => active?.abandon(),
  });
}

/** The dashboard's routes for the controller's server, with its own watches; loaded only with --dashboard. */
async function dashboardPlugin(client: KubeClient, namespace: string | undefined) {
  const [{ loadAssets }, { dashboardRoutes }, { ClusterWatches }, { TokenAccess }] = await Promise.all([
    import("../dashboard/assets.ts"),
    import("../dashboard/server.ts"),
    import("../dashboard/watches.ts"),
    import("../dashboard/access.ts"),
  ]);
  const assets = await loadAssets();
  const watches = new ClusterWatches(client, namespace);
  watches.start();
  const access = new TokenAccess(client);
  return {
    routes: async (app: FastifyInstance) => {
      await app.register(dashboardRoutes, { watches, assets, client, access });
    },
    stop: () => watches.stop(),
  };
}
