// Pure: the HTTP request that delivers a notification to a destination whose URL, headers and
// signing key have been read from their Secrets. Slack gets its message shape; a webhook gets the
// payload as is, signed when it has a key.
import type { NotificationPayload } from "./payload.ts";
import { SIGNATURE_HEADER, sign } from "./signature.ts";
import { slackMessage } from "./slack.ts";
import type { DestinationKind } from "./subscriptions.ts";

export interface ResolvedDestination {
  id: string;
  kind: DestinationKind;
  url: string;
  signingKey?: string;
  headers: Record<string, string>;
  dashboardUrl?: string;
}

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export const IDEMPOTENCY_HEADER = "X-Ramp-Idempotency-Key";
export const EVENT_HEADER = "X-Ramp-Event";
export const ATTEMPT_HEADER = "X-Ramp-Delivery-Attempt";

/** `attempt` counts from 1; `now` is unix seconds, the signature's timestamp. */
export function deliveryRequest(
  dest: ResolvedDestination,
  payload: NotificationPayload,
  attempt: number,
  now: number,
  userAgent: string,
): DeliveryRequest {
  const body = JSON.stringify(dest.kind === "slack" ? slackMessage(payload, dest.dashboardUrl) : payload);
  const headers: Record<string, string> = {
    ...dest.headers,
    "Content-Type": "application/json",
    "User-Agent": userAgent,
    [EVENT_HEADER]: payload.event,
    [IDEMPOTENCY_HEADER]: payload.idempotencyKey,
    [ATTEMPT_HEADER]: String(attempt),
  };
  if (dest.signingKey !== undefined) headers[SIGNATURE_HEADER] = sign(body, dest.signingKey, now);
  return { url: dest.url, headers, body };
}
