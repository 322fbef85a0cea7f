import { describe, expect, it } from "vitest";
import { afterFailure, backoffMs } from "./backoff.ts";

const S = { maxAttempts: 5, initialBackoffMs: 1_000, maxBackoffMs: 10_000 };

describe("backoffMs", () => {
  it.each([
    // failures, random, delay: uniform in [0, min(max, initial * 2^(failures-1))]
    [1, 0.999, 999],
    [1, 0, 0],
    [2, 0.5, 1_000],
    [3, 0.5, 2_000],
    [4, 0.999, 7_992],
    [5, 0.999, 9_990],
    [30, 0.5, 5_000],
  ])("after %i failures with random %f: %i ms", (failures, r, delay) => {
    expect(backoffMs(failures, S, () => r)).toBe(delay);
  });
});

describe("afterFailure", () => {
  it.each([
    [1, { deadLetter: false, nextAttemptAt: 100_500 }],
    [4, { deadLetter: false, nextAttemptAt: 104_000 }],
    [5, { deadLetter: true }],
    [6, { deadLetter: true }],
  ])("after attempt %i of 5", (attempts, expected) => {
    expect(afterFailure(attempts, S, 100_000, () => 0.5)).toEqual(expected);
  });
});
