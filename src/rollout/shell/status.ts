// The last rungs of a reconcile: notifications handed over, the status written when it changed, and
// the Events recorded. In that order: a crash after the status write never loses a notification,
// because the notifier was told first (and dedupes by key).
import { API_VERSION } from "../../api/group.ts";
import type { EventReason } from "../../api/reasons.ts";
import type { RolloutStatus } from "../../api/rollout.ts";
import { isConflict } from "../../kube/client.ts";
import type { RolloutObject } from "../objects.ts";
import { invalidSpecStatus, trafficErrorStatus } from "../plan/rollout.ts";
import { statusWrite } from "../plan/status-pace.ts";
import type { Action } from "../plan/types.ts";
import type { EventAction, StepContext } from "./context.ts";

export const eventsOf = (actions: Action[]): EventAction[] => actions.filter((a): a is EventAction => a.type === "event");

/** Warning Events for what the planner reported as a problem (an invalid spec, a router failure). */
export const warnings = (events: { reason: EventReason; message: string }[]): EventAction[] =>
  events.map((e) => ({ type: "event", ...e, warning: true }));

/** Hands the reconcile's events to the notifier before the status that records them is written. */
export async function notify(ctx: StepContext, rollout: RolloutObject, status: RolloutStatus, actions: Action[], now: Date) {
  const events = eventsOf(actions);
  if (events.length && ctx.notifier) await ctx.notifier.enqueue(rollout, status, events, now);
}

/** Writes the status when it changed, guarded by the resourceVersion read: a concurrent write (a
 * CLI command, another replica) makes this reconcile fail and run again on fresh data. `pacedAt`
 * (a sync, which is looked at again): a change of pod counts only is paced (plan/status-pace.ts),
 * and the time to look again for a write put off is returned. */
export async function writeStatus(
  ctx: StepContext,
  rollout: RolloutObject,
  before: RolloutStatus,
  after: RolloutStatus,
  pacedAt?: Date,
): Promise<number | undefined> {
  const clean = JSON.parse(JSON.stringify(after)) as RolloutStatus;
  const uid = rollout.metadata.uid as string;
  const now = (pacedAt ?? new Date()).getTime();
  const pace = statusWrite(before, clean, pacedAt ? ctx.statusWrittenAt.get(uid) : undefined, now, ctx.busy());
  if (pace.write === "later") return pace.inMs;
  if (pace.write === "no") return undefined;
  try {
    ctx.caches.rollouts.remember(await ctx.client.replace({ ...rollout, status: clean }, { subresource: "status" }));
    ctx.statusWrittenAt.set(uid, now);
    return undefined;
  } catch (err) {
    if (isConflict(err))
      throw new Error(`status of rollout ${rollout.metadata.namespace}/${rollout.metadata.name} changed meanwhile; retrying`);
    throw err;
  }
}

/** Hands the Events among the actions to the recorder, which writes them in the background: a
 * refused Event is its log line, never a failed or slower reconcile. */
export function recordEvents(ctx: StepContext, rollout: RolloutObject, actions: Action[]): void {
  const { name, namespace, uid } = rollout.metadata;
  const events = eventsOf(actions);
  if (events.length)
    ctx.observer?.rolloutEvents(
      namespace,
      name,
      events.map((e) => e.reason),
    );
  for (const a of events) {
    ctx.events.record({
      involved: { apiVersion: API_VERSION, kind: "Rollout", name, namespace, uid },
      reason: a.reason,
      message: a.message,
      warning: a.warning,
      instance: ctx.identity ?? "ramp-controller",
    });
  }
}

/** Writes a status and its Events in order: notifications, status, Events. `paced`: as writeStatus's
 * pacedAt (now); returns when to look again for a status write put off. */
export async function settle(
  ctx: StepContext,
  rollout: RolloutObject,
  before: RolloutStatus,
  after: RolloutStatus,
  actions: Action[],
  now: Date,
  paced = false,
): Promise<number | undefined> {
  await notify(ctx, rollout, after, actions, now);
  const later = await writeStatus(ctx, rollout, before, after, paced ? now : undefined);
  recordEvents(ctx, rollout, actions);
  return later;
}

/** A spec the planner cannot read (the CRD's schema let it through): reported, nothing touched. */
export async function reportUnreadable(
  ctx: StepContext,
  rollout: RolloutObject,
  issue: { path: PropertyKey[]; message: string } | undefined,
  now: Date,
): Promise<undefined> {
  const before = (rollout.status ?? {}) as RolloutStatus;
  const problem = `spec.${issue?.path.map(String).join(".") ?? ""}: ${issue?.message ?? "invalid"}`;
  const { status, events } = invalidSpecStatus(before, problem, now, rollout.metadata.generation ?? 0);
  await settle(ctx, rollout, before, status, warnings(events), now);
  return undefined;
}

/** The router failed: its message goes into the last status (Progressing False) and the planned
 * step is not recorded as done; the caller fails the reconcile, so the queue retries with backoff. */
export async function reportRoutingFailed(ctx: StepContext, rollout: RolloutObject, problem: Error, now: Date): Promise<void> {
  const before = (rollout.status ?? {}) as RolloutStatus;
  const { status, events } = trafficErrorStatus(before, problem.message, now);
  await writeStatus(ctx, rollout, before, status);
  recordEvents(ctx, rollout, warnings(events));
}
