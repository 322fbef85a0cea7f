// The catalogue of stable codes Ramp writes where a tenant reads why something could not be done
// (a measurement's or a gate's Error, a dead-lettered notification). Scripts and alerts match on
// them, so a code is never renamed; docs/security.md explains each.
export const CODES = {
  DESTINATION_NOT_ALLOWED: "the controller's outbound policy refused the URL; nothing was sent",
  SECRET_NOT_OPTED_IN: "the Secret lacks the ramp.dev/secret-access label for this use; its data was not read",
  SECRET_NOT_FOUND: "the Secret does not exist in the object's namespace",
  SECRET_KEY_MISSING: "the Secret has no such key",
  // Why a notification was dead-lettered (the label of ramp_notifications_dead_letter_total).
  DELIVERY_FAILED: "the receiver did not take the notification within delivery.maxAttempts attempts",
  OUTBOX_FULL: "the namespace's outbox holds delivery.maxPending deliveries or 800,000 bytes; the notification did not fit",
  OUTBOX_WRITE_FAILED:
    "the namespace's outbox ConfigMap could not be written within the bounded retries (or before the controller stopped)",
} as const;

export type Code = keyof typeof CODES;

/** An error that carries a stable code, so callers turn it into data (a measurement, a condition)
 * by its code rather than by its message; each subclass names the codes it may carry. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string) {
    super(message);
    this.code = code;
  }
}
