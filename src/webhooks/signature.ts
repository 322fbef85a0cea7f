// Signed webhooks: `X-Ramp-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The
// timestamp is signed with the body, so a receiver that refuses old timestamps refuses replays of
// captured requests; within the tolerance, the idempotency key tells repeats apart.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Ramp-Signature";
/** Five minutes, as Stripe and Slack use. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmac = (key: string, timestamp: number, body: string) =>
  createHmac("sha256", key).update(`${timestamp}.${body}`, "utf8").digest("hex");

/** The header value for `body` sent at `timestamp` (unix seconds). */
export function sign(body: string, key: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(key, timestamp, body)}`;
}

export type Verification =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "MALFORMED" | "BAD_SIGNATURE" | "TOO_OLD" | "IN_THE_FUTURE" };

/**
 * Checks a signature header against the raw body (the exact bytes received, before any JSON
 * parsing). Refuses timestamps more than `toleranceSeconds` away from `now`: a replayed old
 * request fails with TOO_OLD even though its signature is good. Several v1 values are accepted
 * (any one matching), so a key can be rotated.
 */
export function verify(
  header: string | undefined,
  body: string,
  key: string,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = Math.floor(Date.now() / 1000),
): Verification {
  const parts = (header ?? "").split(",").map((p) => p.trim().split("="));
  const t = parts.find(([k]) => k === "t")?.[1];
  const signatures = parts.filter(([k, v]) => k === "v1" && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => v);
  if (t === undefined || !/^\d+$/.test(t) || signatures.length === 0) return { ok: false, reason: "MALFORMED" };
  const timestamp = Number(t);
  const expected = Buffer.from(hmac(key, timestamp, body), "hex");
  if (!signatures.some((s) => timingSafeEqual(Buffer.from(s as string, "hex"), expected))) {
    return { ok: false, reason: "BAD_SIGNATURE" };
  }
  if (now - timestamp > toleranceSeconds) return { ok: false, reason: "TOO_OLD" };
  if (timestamp - now > toleranceSeconds) return { ok: false, reason: "IN_THE_FUTURE" };
  return { ok: true, timestamp };
}
