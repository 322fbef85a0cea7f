import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sign, verify } from "./signature.ts";

const KEY = "s3cret";
const BODY = '{"apiVersion":"ramp.dev/notification/v1","event":"aborted"}';
const T = 1_740_830_400;

describe("sign", () => {
  it("is HMAC-SHA256 of `<t>.<body>` in hex, as docs/notifications.md says", () => {
    const hex = createHmac("sha256", KEY).update(`${T}.${BODY}`).digest("hex");
    expect(sign(BODY, KEY, T)).toBe(`t=${T},v1=${hex}`);
  });
});

describe("verify", () => {
  const good = sign(BODY, KEY, T);
  const other = sign(BODY, "old-key", T);
  it.each([
    ["a fresh request", good, BODY, KEY, T + 10, { ok: true, timestamp: T }],
    ["at the edge of the tolerance", good, BODY, KEY, T + 300, { ok: true, timestamp: T }],
    ["a replay past the tolerance", good, BODY, KEY, T + 301, { ok: false, reason: "TOO_OLD" }],
    ["a timestamp far in the future", good, BODY, KEY, T - 301, { ok: false, reason: "IN_THE_FUTURE" }],
    ["a changed body", good, `${BODY} `, KEY, T, { ok: false, reason: "BAD_SIGNATURE" }],
    ["the wrong key", good, BODY, "nope", T, { ok: false, reason: "BAD_SIGNATURE" }],
    ["a moved timestamp", good.replace(`t=${T}`, `t=${T + 5}`), BODY, KEY, T, { ok: false, reason: "BAD_SIGNATURE" }],
    ["one of several signatures (key rotation)", `${other},${good.split(",")[1]}`, BODY, KEY, T, { ok: true, timestamp: T }],
    ["no header", undefined, BODY, KEY, T, { ok: false, reason: "MALFORMED" }],
    ["no timestamp", good.split(",")[1], BODY, KEY, T, { ok: false, reason: "MALFORMED" }],
    ["no signature", `t=${T}`, BODY, KEY, T, { ok: false, reason: "MALFORMED" }],
    ["a short signature", `t=${T},v1=abcd`, BODY, KEY, T, { ok: false, reason: "MALFORMED" }],
    ["a timestamp that is not a number", `t=soon,${good.split(",")[1]}`, BODY, KEY, T, { ok: false, reason: "MALFORMED" }],
  ])("%s", (_what, header, body, key, now, expected) => {
    expect(verify(header, body, key, 300, now)).toEqual(expected);
  });
});
