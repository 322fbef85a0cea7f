// Gate steps: the calls a reconcile decided are made in the background (a receiver that hangs never
// holds a worker), only once the status marking them Pending is written, so a fast answer always
// finds its call recorded. Each outcome is written into the status's currentGate.
import { API_VERSION } from "../../api/group.ts";
import { EventReason } from "../../api/reasons.ts";
import type { GateState, RolloutStatus } from "../../api/rollout.ts";
import { isConflict } from "../../kube/client.ts";
import { objectKey } from "../../kube/informer.ts";
import { callGate } from "../../webhooks/gates.ts";
import type { RolloutObject } from "../objects.ts";
import type { Action, Plan } from "../plan/types.ts";
import type { StepContext } from "./context.ts";
import { recordEvents, warnings } from "./status.ts";

type GateCall = Extract<Action, { type: "callGate" }>;

export function startGateCalls(ctx: StepContext, rollout: RolloutObject, plan: Plan): void {
  const revision = plan.status.currentPodHash ?? "";
  for (const a of plan.actions) {
    if (a.type !== "callGate") continue;
    gate(ctx, rollout, revision, a).catch((err: unknown) =>
      ctx.log(`gate ${a.name} of ${objectKey(rollout)}: recording the result failed: ${(err as Error).message}`, "warn"),
    );
  }
}

/** Calls the gate, writes the outcome into the status, then looks at the Rollout again. */
async function gate(ctx: StepContext, rollout: RolloutObject, revision: string, call: GateCall): Promise<void> {
  const { namespace, name, uid } = rollout.metadata;
  const body = { rollout: name, namespace, uid, revision, step: call.stepIndex, gate: call.name, attempt: call.attempt };
  const outcome = await callGate(ctx.outbound, { url: call.url, timeoutMs: call.timeoutMs, body });
  if (outcome.phase === "Error") {
    recordEvents(
      ctx,
      rollout,
      warnings([{ reason: EventReason.DestinationNotAllowed, message: `gate ${call.name}: ${outcome.message}` }]),
    );
  }
  // The URL stays out of the log: it may carry a token.
  ctx.log(
    `gate ${call.name} of ${namespace}/${name} call ${call.attempt}: ${outcome.message}`,
    outcome.phase === "Passed" ? "info" : "warn",
  );
  await recordGate(ctx, objectKey(rollout), revision, call, { ...outcome, attempts: call.attempt });
  ctx.requeue(objectKey(rollout));
}

/** A merge patch of the status guarded by the resourceVersion read; on a conflict, read again. A
 * result no longer awaited (a newer call, another revision) is dropped. */
async function recordGate(ctx: StepContext, key: string, revision: string, call: GateCall, result: Partial<GateState>) {
  let current = ctx.caches.rollouts.get(key);
  for (let tries = 0; tries < 5 && current; tries++) {
    const status = (current.status ?? {}) as RolloutStatus;
    // A canary's gate steps, or a blue-green's pre-promotion gate.
    const side = status.blueGreen?.currentGate ? "blueGreen" : "canary";
    const gate = status[side]?.currentGate;
    const awaited =
      status.currentPodHash === revision &&
      gate?.phase === "Pending" &&
      gate.name === call.name &&
      gate.stepIndex === call.stepIndex &&
      gate.attempts === call.attempt;
    if (!awaited) return;
    const { namespace, name, resourceVersion } = current.metadata;
    try {
      const patch = { metadata: { resourceVersion }, status: { [side]: { currentGate: result } } };
      ctx.caches.rollouts.remember(
        await ctx.client.patch(API_VERSION, "Rollout", name, namespace, patch, { subresource: "status" }),
      );
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
      current = await ctx.client.get<RolloutObject>(API_VERSION, "Rollout", name, namespace);
    }
  }
}
