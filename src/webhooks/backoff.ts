// Pure: when to try a failed delivery again. Exponential with full jitter (a uniform delay up to
// the exponential cap), so deliveries that failed together do not all retry together; after
// maxAttempts the delivery is dead-lettered.

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

export type AfterFailure = { deadLetter: true } | { deadLetter: false; nextAttemptAt: number };

/** What follows a failed attempt, given the attempts made so far (this one included). */
export function afterFailure(attempts: number, s: BackoffSettings, now: number, random: () => number): AfterFailure {
  if (attempts >= s.maxAttempts) return { deadLetter: true };
  return { deadLetter: false, nextAttemptAt: now + backoffMs(attempts, s, random) };
}
