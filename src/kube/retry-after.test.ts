import { describe, expect, it } from "vitest";
import { MAX_RETRY_AFTER_RETRIES, retryDelayMs } from "./retry-after.ts";

const forever = Number.POSITIVE_INFINITY;

describe("retryDelayMs", () => {
  it.each([
    ["429 with Retry-After: 1", 429, "1", 0, forever, 1_000],
    ["503 with Retry-After: 2", 503, "2", 0, forever, 2_000],
    ["Retry-After: 0 retries at once", 429, "0", 0, forever, 0],
    ["a huge Retry-After is clamped to 60 s", 429, "86400", 0, forever, 60_000],
    ["the last allowed retry", 429, "1", MAX_RETRY_AFTER_RETRIES - 1, forever, 1_000],
    ["retries used up", 429, "1", MAX_RETRY_AFTER_RETRIES, forever, undefined],
    ["429 without Retry-After", 429, undefined, 0, forever, undefined],
    ["500 with Retry-After is not retried", 500, "1", 0, forever, undefined],
    ["200 is an answer", 200, "1", 0, forever, undefined],
    ["an HTTP-date is not read", 429, "Wed, 21 Oct 2015 07:28:00 GMT", 0, forever, undefined],
    ["a negative value", 429, "-1", 0, forever, undefined],
    ["a fraction", 429, "1.5", 0, forever, undefined],
    ["the wait would outlast the request timeout", 429, "5", 0, 4_000, undefined],
    ["the wait fits in the request timeout", 429, "3", 0, 4_000, 3_000],
  ])("%s", (_name, status, header, retries, budget, expected) => {
    expect(retryDelayMs(status, header, retries, budget)).toBe(expected);
  });
});
