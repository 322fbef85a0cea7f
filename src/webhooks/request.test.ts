import { describe, expect, it } from "vitest";
import { buildPayload, type NotificationPayload } from "./payload.ts";
import { deliveryRequest, type ResolvedDestination } from "./request.ts";
import { verify } from "./signature.ts";

const payload = buildPayload(
  { metadata: { name: "web", namespace: "shop", uid: "u" }, spec: { strategy: { canary: {} } } },
  { currentPodHash: "abc" },
  { reason: "RolloutCompleted", message: "revision abc is stable" },
  new Date("2025-03-01T12:00:00Z"),
) as NotificationPayload;

const T = 1_740_830_400;

describe("deliveryRequest", () => {
  const webhook: ResolvedDestination = {
    id: "webhook:oncall",
    kind: "webhook",
    url: "https://oncall.example/hook",
    signingKey: "k",
    headers: { "X-Team": "payments" },
  };

  it("sends a webhook the payload, signed, with the key and event in headers", () => {
    const req = deliveryRequest(webhook, payload, 3, T, "ramp/1.0");
    expect(req.url).toBe("https://oncall.example/hook");
    expect(JSON.parse(req.body)).toEqual(payload);
    const { "X-Ramp-Signature": signature, ...headers } = req.headers;
    expect(headers).toEqual({
      "X-Team": "payments",
      "Content-Type": "application/json",
      "User-Agent": "ramp/1.0",
      "X-Ramp-Event": "completed",
      "X-Ramp-Idempotency-Key": payload.idempotencyKey,
      "X-Ramp-Delivery-Attempt": "3",
    });
    expect(verify(signature, req.body, "k", 300, T)).toEqual({ ok: true, timestamp: T });
  });

  it.each([
    ["a webhook without a signing key is not signed", { ...webhook, signingKey: undefined }, false, "ramp.dev/notification/v1"],
    [
      "Slack gets its message shape",
      { id: "slack:d", kind: "slack", url: "https://hooks.slack.com/x", headers: {} },
      false,
      "blocks",
    ],
  ] as [string, ResolvedDestination, boolean, string][])("%s", (_what, dest, signed, bodyHas) => {
    const req = deliveryRequest(dest, payload, 1, T, "ramp/1.0");
    expect("X-Ramp-Signature" in req.headers).toBe(signed);
    expect(req.body).toContain(bodyHas);
    expect(req.headers["X-Ramp-Idempotency-Key"]).toBe(payload.idempotencyKey);
  });
});
