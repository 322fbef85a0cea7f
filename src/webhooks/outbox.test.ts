import { describe, expect, it } from "vitest";
import { DONE_TTL_MS, decodeOutbox, deliveryId, encodeEntry, insertion, type OutboxEntry } from "./outbox.ts";
import type { NotificationPayload } from "./payload.ts";

const NOW = Date.parse("2025-03-01T12:00:00Z");

const entry = (id: string, seq = 1): OutboxEntry => ({
  id,
  destination: "slack:deploys",
  payload: { idempotencyKey: id, event: "aborted", rollout: { name: "web", uid: "u" } } as NotificationPayload,
  attempts: 0,
  nextAttemptAt: "2025-03-01T12:00:00.000Z",
  seq,
});
const done = (ago: number, outcome = "delivered") => JSON.stringify({ doneAt: new Date(NOW - ago).toISOString(), outcome });

describe("deliveryId", () => {
  it("is a valid ConfigMap key per event and destination", () => {
    expect(deliveryId("0123abcd", "webhook:on-call")).toBe("0123abcd.webhook.on-call");
    expect(deliveryId("0123abcd", "webhook:on-call")).toMatch(/^[-._a-zA-Z0-9]+$/);
  });
});

describe("decodeOutbox", () => {
  it("tells pending, done and unreadable keys apart", () => {
    const noRollout = JSON.stringify({ ...JSON.parse(encodeEntry(entry("e"))), payload: {} });
    const got = decodeOutbox({ a: encodeEntry(entry("a")), b: done(1000), c: "not json", d: '{"colour":"blue"}', e: noRollout });
    expect(got.pending).toEqual([entry("a")]);
    expect(got.done).toEqual(new Map([["b", NOW - 1000]]));
    expect(got.unreadable).toEqual(["c", "d", "e"]);
  });
});

describe("insertion", () => {
  it.each([
    ["into an empty outbox", {}, ["a", "b"], 10, { a: "entry", b: "entry" }, ["a", "b"], []],
    ["an id already pending is not added again", { a: "pending" }, ["a", "b"], 10, { b: "entry" }, ["b"], []],
    ["an id done within the hour is not added again", { a: `done:${DONE_TTL_MS - 1}` }, ["a"], 10, {}, [], []],
    [
      "expired done ids are dropped",
      { old: `done:${DONE_TTL_MS}`, older: `done:${DONE_TTL_MS + 1}` },
      ["b"],
      10,
      { old: null, older: null, b: "entry" },
      ["b"],
      [],
    ],
    ["unreadable keys are dropped", { junk: "{" }, [], 10, { junk: null }, [], []],
    ["beyond maxPending, the rest overflow", { a: "pending" }, ["b", "c"], 2, { b: "entry" }, ["b"], ["c"]],
  ] as const)("%s", (_what, existing, ids, maxPending, patch, added, overflow) => {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(existing)) {
      data[k] = v === "pending" ? encodeEntry(entry(k)) : v.startsWith("done:") ? done(Number(v.slice(5))) : v;
    }
    const got = insertion(
      data,
      ids.map((id) => entry(id)),
      NOW,
      maxPending,
    );
    expect(got.patch).toEqual(
      Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v === "entry" ? encodeEntry(entry(k)) : v])),
    );
    expect(got.added.map((e) => e.id)).toEqual(added);
    expect(got.overflow.map((e) => e.id)).toEqual(overflow);
  });

  it.each([
    { name: "ASCII", message: "deploy" },
    { name: "non-Latin text (3 UTF-8 bytes per UTF-16 unit)", message: "発行".repeat(1000) },
    { name: "emoji (4 bytes, 2 units)", message: "🚀".repeat(1000) },
  ])("keeps the ConfigMap under its size limit, counted in UTF-8 bytes: $name", ({ message }) => {
    const base = entry("big");
    const big = { ...base, payload: { ...base.payload, message } } as OutboxEntry;
    const size = Buffer.byteLength("big") + Buffer.byteLength(encodeEntry(big));
    expect(insertion({}, [big], NOW, 10, size).added).toHaveLength(1);
    expect(insertion({}, [big], NOW, 10, size - 1).overflow).toHaveLength(1);
  });

  it("stores no id inside the value (the key is the id)", () => {
    expect(JSON.parse(encodeEntry(entry("a")))).not.toHaveProperty("id");
  });
});
