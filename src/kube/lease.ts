// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: the leader
// renews the Lease every retry period; the others take it over once it is released or has not
// changed for its lease duration. Every write carries the resourceVersion it was decided on, so of
// two contenders that read the same Lease only one can win.
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject } from "./client.ts";
import type { Log } from "./log.ts";

const API_VERSION = "coordination.k8s.io/v1";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export type Lease = KubeObject & { spec?: LeaseSpec };

/** RFC 3339 with microseconds: the apiserver rejects other forms for a MicroTime. */
export const microTime = (at: Date): string => at.toISOString().replace(/Z$/, "000Z");

export interface LeaseInput {
  /** The Lease's spec as read; undefined when there is no Lease. */
  lease: LeaseSpec | undefined;
  identity: string;
  now: Date;
  leaseDurationMs: number;
  /** Local time at which this replica last saw the Lease's record change. */
  observedAt: Date;
}

export type LeaseDecision =
  | { action: "create" | "acquire" | "renew"; spec: Required<LeaseSpec>; leader: string }
  | { action: "wait"; leader: string };

/** What to do with the Lease as read: write `spec` (create, acquire or renew) or wait for its holder. */
export function decideLease({ lease, identity, now, leaseDurationMs, observedAt }: LeaseInput): LeaseDecision {
  const stamp = microTime(now);
  const ours = {
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
    acquireTime: stamp,
    renewTime: stamp,
  };
  if (!lease) return { action: "create", spec: { ...ours, leaseTransitions: 0 }, leader: identity };
  const holder = lease.holderIdentity ?? "";
  const transitions = lease.leaseTransitions ?? 0;
  if (holder === identity) {
    return {
      action: "renew",
      spec: { ...ours, acquireTime: lease.acquireTime ?? stamp, leaseTransitions: transitions },
      leader: identity,
    };
  }
  if (holder) {
    // The holder's clock may be off from ours: its term runs from when *we* saw the record change,
    // for as long as the holder says (a released Lease says 1s).
    const advertisedSeconds = lease.leaseDurationSeconds ?? 0;
    const termMs = advertisedSeconds > 0 ? advertisedSeconds * 1000 : leaseDurationMs;
    if (now.getTime() < observedAt.getTime() + termMs) return { action: "wait", leader: holder };
  }
  return { action: "acquire", spec: { ...ours, leaseTransitions: transitions + 1 }, leader: identity };
}

/** How long one attempt (a read and a write) may take before it is given up and tried again: half
 * of what the renew deadline leaves after a retry period, so that a request caught on a dead
 * connection costs one attempt, not the Lease. Give the elector's client this request timeout too,
 * so that the abandoned request is ended rather than left open. */
export const leaseAttemptTimeoutMs = ({ renewDeadlineMs, retryPeriodMs }: LeaseTiming): number =>
  Math.max(1, Math.floor((renewDeadlineMs - retryPeriodMs) / 2));

export type LeaseTiming = Pick<LeaderElectorOptions, "renewDeadlineMs" | "retryPeriodMs">;

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease holds without renewal before another replica may take it. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it stops leading; below leaseDurationMs. */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs: number;
  log?: Log;
  now?: () => Date;
}

export interface LeaderCallbacks {
  /** Called when this replica starts leading; not awaited. `signal` aborts when leading ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once when leading ends: lost, aborted or released. Not called if it never led. */
  onStoppedLeading(): void;
  /** Called when a (new) holder of the Lease is seen, this replica included. */
  onNewLeader?(identity: string): void;
}

/** Options that cannot work, found before any election starts. */
export class LeaderElectionConfigError extends Error {
  readonly code = "RAMP_LEADER_ELECTION_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "LeaderElectionConfigError";
  }
}

type Attempt = "won" | "held" | "failed";

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly opts: LeaderElectorOptions;
  private readonly now: () => Date;
  private readonly where: string;
  private readonly attemptMs: number;
  private readonly released = new AbortController();
  private leading = false;
  /** When the last successful write was *started*: the apiserver holds it from after that moment,
   * so a deadline counted from here expires before any contender's count. */
  private renewedAt = 0;
  private observed: Lease | undefined;
  /** `observed` is this replica's own last write, not yet refused: the leader renews it without
   * reading it first (client-go's fast path), one request a retry period instead of two. */
  private ownWrite = false;
  private observedKey: string | undefined;
  private observedAt = new Date(0);
  private reported = "";

  constructor(client: KubeClient, opts: LeaderElectorOptions) {
    for (const field of ["namespace", "name", "identity"] as const) {
      if (!opts[field]) throw new LeaderElectionConfigError(`leader election: ${field} must not be empty`);
    }
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = opts;
    if (!(retryPeriodMs > 0)) {
      throw new LeaderElectionConfigError(`leader election: retryPeriodMs (${retryPeriodMs}) must be above 0`);
    }
    if (!(renewDeadlineMs > retryPeriodMs)) {
      throw new LeaderElectionConfigError(
        `leader election: renewDeadlineMs (${renewDeadlineMs}) must be greater than retryPeriodMs (${retryPeriodMs})`,
      );
    }
    if (!(leaseDurationMs > renewDeadlineMs)) {
      throw new LeaderElectionConfigError(
        `leader election: leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`,
      );
    }
    this.client = client;
    this.opts = opts;
    this.now = opts.now ?? (() => new Date());
    this.where = `Lease ${opts.namespace}/${opts.name}`;
    this.attemptMs = leaseAttemptTimeoutMs(opts);
  }

  /** Leading, and renewed within the renew deadline. */
  get isLeader(): boolean {
    return this.leading && this.now().getTime() - this.renewedAt < this.opts.renewDeadlineMs;
  }

  /**
   * Waits for the Lease, leads while it renews it, and returns once leading is lost or `signal`
   * aborts (or release() is called). An abort does not give the Lease up: call release() once the
   * leader's work has stopped, or the others take over when the Lease expires. Never throws.
   */
  async run(callbacks: LeaderCallbacks, signal: AbortSignal): Promise<void> {
    const stop = AbortSignal.any([signal, this.released.signal]);
    if (!(await this.acquire(callbacks, stop))) return;
    this.leading = true;
    this.log(`${this.where}: leading as ${this.opts.identity}`);
    const leadership = new AbortController();
    Promise.resolve()
      .then(() => callbacks.onStartedLeading(leadership.signal))
      .catch((err: unknown) => this.log(`${this.where}: onStartedLeading failed: ${messageOf(err)}`, "warn"));
    try {
      await this.renew(callbacks, stop);
    } finally {
      this.leading = false;
      leadership.abort();
      this.call("onStoppedLeading", () => callbacks.onStoppedLeading());
    }
  }

  /** If this replica holds the Lease, hands it over at once (empty holder, 1s term: client-go's
   * ReleaseOnCancel). Also ends run(). Never throws: a failure is logged and the Lease expires. */
  async release(): Promise<void> {
    this.released.abort();
    if (this.observed?.spec?.holderIdentity !== this.opts.identity) return;
    // A renewal still in flight may move the resourceVersion: read again on a conflict.
    for (let tries = 0; tries < 3; tries++) {
      try {
        const lease = await this.read();
        if (lease?.spec?.holderIdentity !== this.opts.identity) return;
        const stamp = microTime(this.now());
        this.observed = await this.client.replace<Lease>({
          apiVersion: API_VERSION,
          kind: "Lease",
          metadata: withoutManagedFields(lease.metadata),
          spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp },
        });
        this.log(`${this.where}: released`);
        return;
      } catch (err) {
        if (!isConflict(err)) {
          this.log(`${this.where}: could not release it (it expires on its own): ${messageOf(err)}`, "warn");
          return;
        }
      }
    }
    this.log(`${this.where}: could not release it after repeated conflicts (it expires on its own)`, "warn");
  }

  /** Tries every retry period, each attempt bounded, until this replica holds the Lease (true) or
   * `stop` aborts (false). */
  private async acquire(callbacks: LeaderCallbacks, stop: AbortSignal): Promise<boolean> {
    while (!stop.aborted) {
      const started = this.now().getTime();
      if ((await settle(this.attempt(callbacks, stop), this.attemptMs, stop)) === "won" && !stop.aborted) {
        this.renewedAt = started;
        return true;
      }
      await pause(this.untilNextAttempt(started), stop);
    }
    return false;
  }

  /** Renews every retry period; returns when `stop` aborts, another holder is seen, or no renewal
   * succeeded within the renew deadline. */
  private async renew(callbacks: LeaderCallbacks, stop: AbortSignal): Promise<void> {
    for (let wait = this.opts.retryPeriodMs; ; ) {
      await pause(wait, stop);
      if (stop.aborted) return;
      const started = this.now().getTime();
      const left = this.renewedAt + this.opts.renewDeadlineMs - started;
      const result = left > 0 ? await settle(this.attempt(callbacks, stop), Math.min(left, this.attemptMs), stop) : undefined;
      if (stop.aborted) return;
      wait = this.untilNextAttempt(started);
      if (result === "won") {
        this.renewedAt = started;
      } else if (result === "held") {
        // Someone else believes it leads: stop now rather than at the deadline.
        this.log(`${this.where}: lost; now held by ${this.observed?.spec?.holderIdentity}`, "warn");
        return;
      } else if (this.now().getTime() - this.renewedAt >= this.opts.renewDeadlineMs) {
        this.log(`${this.where}: lost; not renewed within ${this.opts.renewDeadlineMs}ms`, "warn");
        return;
      }
    }
  }

  /** Attempts start a retry period apart: after one that was given up, that time has passed already. */
  private untilNextAttempt(started: number): number {
    return Math.max(0, started + this.opts.retryPeriodMs - this.now().getTime());
  }

  /** One read and, unless another replica holds the Lease, one guarded write. */
  private async attempt(callbacks: LeaderCallbacks, stop: AbortSignal): Promise<Attempt> {
    try {
      const lease = this.leading && this.ownWrite ? this.observed : await this.read();
      const now = this.now();
      this.observe(lease, now, callbacks);
      const decision = decideLease({
        lease: lease ? (lease.spec ?? {}) : undefined,
        identity: this.opts.identity,
        now,
        leaseDurationMs: this.opts.leaseDurationMs,
        observedAt: this.observedAt,
      });
      if (decision.action === "wait") return "held";
      // Never write once stopped: release() may be handing the Lease over.
      if (stop.aborted) return "failed";
      const body: Lease = {
        apiVersion: API_VERSION,
        kind: "Lease",
        metadata: lease ? withoutManagedFields(lease.metadata) : { name: this.opts.name, namespace: this.opts.namespace },
        spec: { ...lease?.spec, ...decision.spec },
      };
      const written = decision.action === "create" ? await this.client.create(body) : await this.client.replace(body);
      this.observe(written, this.now(), callbacks);
      this.ownWrite = true;
      return "won";
    } catch (err) {
      this.ownWrite = false;
      if (isConflict(err) || isAlreadyExists(err)) this.log(`${this.where}: another replica wrote it first`, "debug");
      else this.log(`${this.where}: ${messageOf(err)}; retrying`, "warn");
      return "failed";
    }
  }

  private async read(): Promise<Lease | undefined> {
    try {
      return await this.client.get<Lease>(API_VERSION, "Lease", this.opts.name, this.opts.namespace);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Remembers the Lease and, when its record changed, the local time: expiry is counted from there. */
  private observe(lease: Lease | undefined, now: Date, callbacks: LeaderCallbacks): void {
    const spec = lease?.spec;
    const key = JSON.stringify([
      spec?.holderIdentity,
      spec?.renewTime,
      spec?.acquireTime,
      spec?.leaseTransitions,
      spec?.leaseDurationSeconds,
    ]);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = now;
    }
    this.observed = lease;
    const holder = spec?.holderIdentity ?? "";
    if (holder && holder !== this.reported) {
      this.reported = holder;
      this.call("onNewLeader", () => callbacks.onNewLeader?.(holder));
    }
  }

  private call(name: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.log(`${this.where}: ${name} failed: ${messageOf(err)}`, "warn");
    }
  }

  private log(msg: string, level?: Parameters<Log>[1]): void {
    this.opts.log?.(msg, level);
  }
}

/** The apiserver keeps managedFields that an update leaves out; sending them back is only weight. */
function withoutManagedFields(metadata: KubeObject["metadata"]): KubeObject["metadata"] {
  const { managedFields: _, ...rest } = metadata;
  return rest;
}

/** `work`'s result, or undefined once `ms` pass or `signal` aborts (the work then finishes unwatched). */
function settle<T>(work: Promise<T>, ms: number, signal: AbortSignal): Promise<T | undefined> {
  return new Promise((resolve) => {
    const done = (value: T | undefined) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", giveUp);
      resolve(value);
    };
    const giveUp = () => done(undefined);
    const timer = setTimeout(giveUp, ms);
    if (signal.aborted) return giveUp();
    signal.addEventListener("abort", giveUp, { once: true });
    work.then(done, giveUp);
  });
}

/** Sleeps `ms`, or less if `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) => settle(new Promise<never>(() => {}), ms, signal);

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));
