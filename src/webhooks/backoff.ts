// Pure: when to try a failed delivery (or outbox write) again. Exponential with full jitter (a
// uniform delay up to the exponential cap), so what failed together does not all retry together;
// after maxAttempts, or at once when retrying cannot help, it is dead-lettered with a code.
import type { Code } from "../api/codes.ts";

export interface BackoffSettings {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** The delay after the `failures`-th failed attempt (1 for the first): uniform in [0, cap]. */
export function backoffMs(failures: number, s: BackoffSettings, random: () => number): number {
  const cap = Math.min(s.maxBackoffMs, s.initialBackoffMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * cap);
}

export type AfterFailure = { deadLetter: Code } | { deadLetter?: undefined; retryAt: number };

export interface FailureCodes {
  /** The code once the attempts are used up. */
  exhausted: Code;
  /** Set when the failure is one retrying cannot cure (the outbound policy, a Secret's opt-in). */
  refused?: Code | undefined;
}

/** What follows a failed attempt, given the attempts made so far (this one included). */
export function afterFailure(
  attempts: number,
  s: BackoffSettings,
  now: number,
  random: () => number,
  codes: FailureCodes,
): AfterFailure {
  if (codes.refused) return { deadLetter: codes.refused };
  if (attempts >= s.maxAttempts) return { deadLetter: codes.exhausted };
  return { retryAt: now + backoffMs(attempts, s, random) };
}
