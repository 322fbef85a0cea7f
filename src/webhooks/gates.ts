// A gate step's call: one POST through the outbound policy, its answer turned into the gate's
// outcome. Every failure is an outcome, never an exception: the shell records it in the status.
import type { GateState } from "../api/rollout.ts";
import { DestinationNotAllowed, type OutboundDoor } from "../net/outbound.ts";

export interface GateRequest {
  url: string;
  timeoutMs: number;
  /** What the receiver is told: which rollout, revision, step, gate and attempt. */
  body: Record<string, unknown>;
}

export type GateOutcome = Pick<GateState, "phase" | "message"> & Partial<Pick<GateState, "code">>;

/** 2xx passes, any other answer or no answer fails (the planner may call again); a URL the policy
 * refuses is an Error, not retried, as the policy will say the same next time. */
export async function callGate(outbound: OutboundDoor, req: GateRequest): Promise<GateOutcome> {
  try {
    const res = await outbound.post(req.url, {
      body: JSON.stringify(req.body),
      headers: { "content-type": "application/json", "user-agent": "ramp-controller" },
      timeoutMs: req.timeoutMs,
    });
    return {
      phase: res.status >= 200 && res.status < 300 ? "Passed" : "Failed",
      message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`,
    };
  } catch (err) {
    if (err instanceof DestinationNotAllowed) return { phase: "Error", code: err.code, message: err.message };
    const e = err as Error & { cause?: Error };
    const message =
      e.name === "TimeoutError" ? `no answer within ${req.timeoutMs}ms` : `call failed: ${e.cause?.message ?? e.message}`;
    return { phase: "Failed", message };
  }
}
