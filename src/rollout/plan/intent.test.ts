import { describe, expect, it } from "vitest";
import type { RolloutStatus } from "../../api/rollout.ts";
import { type Intent, intentOf } from "./intent.ts";

const AT = "2026-01-01T00:00:00Z";
const NONE: Intent = { abort: false, retry: false, promoteFull: false, promoted: false };
const PAUSE = { reason: "BlueGreenPause", startTime: AT };

describe("intentOf", () => {
  it.each<[string, RolloutStatus, Partial<Intent>]>([
    ["nothing asked", {}, {}],
    ["`ramp abort`, not yet taken up", { abort: true }, { abort: true }],
    ["aborted", { abort: true, abortedAt: AT }, { abort: true }],
    ["`ramp retry` of an aborted rollout", { abort: true, abortedAt: AT, retry: true }, { retry: true }],
    ["`ramp retry` before the abort was taken up", { abort: true, retry: true }, { retry: true }],
    ["an Argo-style retry: abort cleared, abortedAt left", { abort: false, abortedAt: AT }, { retry: true }],
    ["retry on a rollout that is not aborted asks nothing", { retry: true }, {}],
    ["retry with abort cleared and nothing aborted asks nothing", { abort: false, retry: true }, {}],
    ["`ramp promote --full`", { promoteFull: true }, { promoteFull: true }],
    [
      "blue-green: the controller's pause cleared by `ramp promote`",
      { controllerPause: true, pauseConditions: [] },
      { promoted: true },
    ],
    ["blue-green: the pause cleared, no list left", { controllerPause: true }, { promoted: true }],
    ["blue-green: still paused", { controllerPause: true, pauseConditions: [PAUSE] }, {}],
    ["a pause the controller did not set", { pauseConditions: [PAUSE] }, {}],
    ["the controller's pause lifted by the controller", { controllerPause: false }, {}],
  ])("%s", (_, status, intent) => {
    expect(intentOf(status)).toEqual({ ...NONE, ...intent });
  });
});
