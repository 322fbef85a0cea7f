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
  const delivery = { exhausted: "DELIVERY_FAILED" } as const;
  it.each([
    ["a first failure", 1, delivery, { retryAt: 100_500 }],
    ["the 4th of 5", 4, delivery, { retryAt: 104_000 }],
    ["the last of 5", 5, delivery, { deadLetter: "DELIVERY_FAILED" }],
    ["one past the last", 6, delivery, { deadLetter: "DELIVERY_FAILED" }],
    ["an outbox write's last", 5, { exhausted: "OUTBOX_WRITE_FAILED" }, { deadLetter: "OUTBOX_WRITE_FAILED" }],
    [
      "a refusal, at the first",
      1,
      { ...delivery, refused: "DESTINATION_NOT_ALLOWED" },
      { deadLetter: "DESTINATION_NOT_ALLOWED" },
    ],
    ["a refusal, at the last", 5, { ...delivery, refused: "SECRET_NOT_OPTED_IN" }, { deadLetter: "SECRET_NOT_OPTED_IN" }],
  ] as const)("%s: attempt %i -> %o", (_what, attempts, codes, expected) => {
    expect(afterFailure(attempts, S, 100_000, () => 0.5, codes)).toEqual(expected);
  });
});
