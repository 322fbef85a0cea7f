import { describe, expect, it } from "vitest";
import type { RolloutStatus } from "../../api/rollout.ts";
import { BUSY_COUNTS_INTERVAL_MS, COUNTS_INTERVAL_MS, statusWrite } from "./status-pace.ts";

const T = 1_000_000;
const base: RolloutStatus = {
  phase: "Progressing",
  currentStepIndex: 0,
  availableReplicas: 1,
  message: "step 1 of 3: canary at 50%, scaling",
  conditions: [
    { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", lastTransitionTime: "t0", lastUpdateTime: "t0" },
  ],
};
const counts: RolloutStatus = {
  ...base,
  availableReplicas: 2,
  message: "step 1 of 3: canary at 50%",
  conditions: [
    { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", lastTransitionTime: "t0", lastUpdateTime: "t1" },
  ],
};

describe("statusWrite", () => {
  it.each([
    { name: "the same status is not written", after: base, lastWrittenAt: T, now: T, expected: { write: "no" } },
    {
      name: "a decision (the step) is written at once",
      after: { ...base, currentStepIndex: 1 },
      lastWrittenAt: T,
      now: T,
      expected: { write: "now" },
    },
    {
      name: "a condition's state is a decision",
      after: { ...base, conditions: [{ ...(base.conditions?.[0] as object), status: "False" }] } as RolloutStatus,
      lastWrittenAt: T,
      now: T,
      expected: { write: "now" },
    },
    {
      name: "counts, messages and update times only: they wait out the interval",
      after: counts,
      lastWrittenAt: T,
      now: T + 500,
      expected: { write: "later", inMs: COUNTS_INTERVAL_MS - 500 },
    },
    {
      name: "counts only, the interval over: written",
      after: counts,
      lastWrittenAt: T,
      now: T + COUNTS_INTERVAL_MS,
      expected: { write: "now" },
    },
    {
      name: "counts only, never written by this process (a restart): written",
      after: counts,
      lastWrittenAt: undefined,
      now: T,
      expected: { write: "now" },
    },
    {
      name: "counts only with the queue busy: they wait the longer interval",
      after: counts,
      lastWrittenAt: T,
      now: T + COUNTS_INTERVAL_MS,
      busy: true,
      expected: { write: "later", inMs: BUSY_COUNTS_INTERVAL_MS - COUNTS_INTERVAL_MS },
    },
    {
      name: "a decision with the queue busy: at once",
      after: { ...base, currentStepIndex: 1 },
      lastWrittenAt: T,
      now: T,
      busy: true,
      expected: { write: "now" },
    },
  ])("$name", ({ after, lastWrittenAt, now, busy, expected }) => {
    expect(statusWrite(base, after, lastWrittenAt, now, busy)).toEqual(expected);
  });
});
