// What every long-running Ramp controller process does around its controllers: serve health,
// readiness and /metrics, stop cleanly on SIGTERM/SIGINT, and start the controllers only while it
// holds its Lease (exiting when it loses it, as controller-runtime does). `ramp controller` and
// `ramp fleet controller` differ only in what they run.
import type { FastifyInstance } from "fastify";
import type { KubeClient, KubeClientOptions } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { LeaderElector, leaseAttemptTimeoutMs } from "../kube/lease.ts";
import type { Log } from "../kube/log.ts";
import { backgroundClientOptions } from "../runtime/controllers.ts";
import type { ControllerMetrics } from "../server/metrics.ts";
import { startServer } from "../server/server.ts";
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags, kubeClient, requestTimeoutMs } from "./kube-options.ts";

/** The controllers a process runs, started and stopped as one. */
export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly synced: boolean;
  readonly problems: string[];
}

export interface RuntimeFlags extends KubeFlags {
  metricsHost: string;
  metricsPort: number;
  leaderElect: boolean;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity: string;
}

export interface Runtime {
  flags: RuntimeFlags;
  active: Runnable;
  metrics: ControllerMetrics;
  /** The options of the process's main client; the Lease gets a client of its own with them. */
  clientOptions: KubeClientOptions;
  /** The process's Event recorder (eventRecorder()), flushed once the controllers have stopped. */
  events: EventRecorder;
  lease: { namespace: string; name: string };
  log: Log;
  /** Where the lines go that end the process (Log stops at warn). */
  logger: { error(line: string): void };
  routes?: (app: FastifyInstance) => Promise<void>;
  /** Called once the controllers and the server have stopped cleanly. */
  onStopped?: () => void;
  /** Called before the process exits for a lost Lease. */
  onLostLease?: () => void;
}

/** How long a stopping process waits for the Events still queued. */
const EVENTS_FLUSH_MS = 5_000;

/** The client of the writes nothing waits for (Events, revision history): the main client's cluster
 * and options with a rate limit of its own, so they never take the tokens of status and ReplicaSet
 * writes. */
export function backgroundClient(flags: KubeFlags, clientOptions: KubeClientOptions): KubeClient {
  return kubeClient(flags, backgroundClientOptions(clientOptions), DEFAULT_REQUEST_TIMEOUT);
}

/** The process's one Event recorder, on the background client. */
export function eventRecorder(background: KubeClient, log: Log): EventRecorder {
  return new EventRecorder(background, { log });
}

export async function runLeaderElected(r: Runtime): Promise<void> {
  const { flags, active, log } = r;
  let leading = !flags.leaderElect;
  const server = await startServer({
    ...(r.routes ? { routes: r.routes } : {}),
    host: flags.metricsHost,
    port: flags.metricsPort,
    metrics: r.metrics,
    // A standby is ready to take over; a leader is ready once its caches are filled and kept current.
    ready: () => {
      if (!leading) return { ready: true };
      const problems = active.problems;
      if (problems.length) return { ready: false, reason: problems.join("; ") };
      return active.synced ? { ready: true } : { ready: false, reason: "caches not synced yet" };
    },
  });
  log(`serving on ${server.url}`);

  const stopping = new AbortController();
  let elector: LeaderElector | undefined;
  const shutdown = async (signal: string) => {
    if (stopping.signal.aborted) return;
    log(`${signal}: finishing the reconciles under way`);
    stopping.abort();
    await active.stop();
    await elector?.release();
    if (!(await r.events.flush(EVENTS_FLUSH_MS)))
      log(`Events still unwritten after ${EVENTS_FLUSH_MS / 1000}s are dropped`, "warn");
    r.events.stop();
    r.onStopped?.();
    await server.close();
    log("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  if (!flags.leaderElect) {
    await active.start();
    return;
  }
  const timing = { leaseDurationMs: flags.leaseDuration, renewDeadlineMs: flags.renewDeadline, retryPeriodMs: flags.retryPeriod };
  // The Lease's requests end within one attempt, so a renewal caught on a dead connection is tried
  // again within the renew deadline (the 30 s default request timeout is longer than all of it); its
  // own client has its own rate limit too, so a burst of reconciles cannot hold a renewal back.
  const requestMs = requestTimeoutMs(flags.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT);
  const attemptMs = leaseAttemptTimeoutMs(timing);
  const leaseClient = kubeClient(flags, {
    ...r.clientOptions,
    requestTimeoutMs: requestMs ? Math.min(requestMs, attemptMs) : attemptMs,
  });
  elector = new LeaderElector(leaseClient, { ...r.lease, identity: flags.identity, ...timing, log });
  await elector.run(
    {
      onStartedLeading: async () => {
        leading = true;
        log(`leading as ${flags.identity}`);
        // Informers retry their lists; anything else failing here leaves a leader that does nothing.
        await active.start().catch((err: unknown) => {
          r.logger.error(`could not start: ${(err as Error).message}`);
          process.exit(1);
        });
      },
      // A replica that lost its Lease may hold stale state: exit and start afresh.
      onStoppedLeading: () => {
        if (stopping.signal.aborted) return;
        r.logger.error("lost the lease; exiting");
        r.onLostLease?.();
        process.exit(1);
      },
      onNewLeader: (identity) => {
        if (identity !== flags.identity) log(`the leader is ${identity}`);
      },
    },
    stopping.signal,
  );
}
