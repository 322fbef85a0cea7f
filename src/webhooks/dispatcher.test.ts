import { afterEach, describe, expect, it, vi } from "vitest";
import { DestinationNotAllowed } from "../net/outbound.ts";
import {
  Dispatcher,
  type DispatcherOptions,
  due,
  failureText,
  laneOf,
  nextDueAt,
  type Pending,
  refusalCode,
} from "./dispatcher.ts";
import type { NotificationPayload } from "./payload.ts";
import { DestinationError } from "./settings.ts";
import { emptyConfig } from "./subscriptions.ts";

/** `rollout/destination#seq@dueAt` */
const p = (spec: string): Pending => {
  const [, rollout, destination, seq, at] = /^(\w+)\/([\w:]+)#(\d+)@(\d+)$/.exec(spec) ?? [];
  return {
    namespace: "ns",
    entry: {
      id: spec,
      destination: destination as string,
      payload: { rollout: { uid: rollout } } as NotificationPayload,
      attempts: 0,
      nextAttemptAt: new Date(Number(at)).toISOString(),
      seq: Number(seq),
    },
  };
};

describe("due", () => {
  it.each([
    ["nothing pending", [], [], 100, 4, []],
    [
      "one lane: only its oldest, even if a later one is due",
      ["a/slack:x#2@0", "a/slack:x#1@50"],
      [],
      100,
      4,
      ["a/slack:x#1@50"],
    ],
    ["the oldest not yet due holds its lane", ["a/slack:x#1@200", "a/slack:x#2@0"], [], 100, 4, []],
    ["a busy lane waits", ["a/slack:x#1@0"], ["ns/a/slack:x"], 100, 4, []],
    [
      "lanes are per rollout and destination",
      ["a/slack:x#1@0", "a/webhook:y#2@0", "b/slack:x#3@0"],
      ["ns/a/slack:x"],
      100,
      4,
      ["a/webhook:y#2@0", "b/slack:x#3@0"],
    ],
    [
      "longest waiting first, within the free slots",
      ["a/slack:x#1@90", "b/slack:x#2@10", "c/slack:x#3@50"],
      [],
      100,
      2,
      ["b/slack:x#2@10", "c/slack:x#3@50"],
    ],
    ["no free slot", ["a/slack:x#1@0"], [], 100, 0, []],
  ])("%s", (_what, pending, busy, now, slots, picked) => {
    expect(due(pending.map(p), new Set(busy), now, slots).map((x) => x.entry.id)).toEqual(picked);
  });
});

describe("nextDueAt", () => {
  it.each([
    ["nothing pending", [], [], undefined],
    ["the earliest idle head", ["a/slack:x#1@300", "b/slack:x#2@200", "b/slack:x#3@0"], [], 200],
    ["busy lanes do not count", ["a/slack:x#1@100", "b/slack:x#2@200"], ["ns/a/slack:x"], 200],
  ])("%s", (_what, pending, busy, at) => {
    expect(nextDueAt(pending.map(p), new Set(busy))).toBe(at);
  });
});

describe("laneOf", () => {
  it("is namespace, rollout uid and destination", () => {
    expect(laneOf(p("u1/webhook:oncall#1@0"))).toBe("ns/u1/webhook:oncall");
  });
});

describe("failureText", () => {
  const fetchError = (code?: string) => Object.assign(new TypeError("fetch failed"), code ? { cause: { code } } : {});
  it.each([
    ["a timeout", Object.assign(new Error("x"), { name: "TimeoutError" }), "no answer within 2.5s"],
    ["a refused connection", fetchError("ECONNREFUSED"), "request failed: ECONNREFUSED"],
    [
      "a refused connection (node:http)",
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:80"), { code: "ECONNREFUSED" }),
      "request failed: ECONNREFUSED",
    ],
    [
      "a destination outside the outbound policy: its origin only, never the path",
      new DestinationNotAllowed("https://hooks.example.com", "not in --outbound-allow"),
      "DESTINATION_NOT_ALLOWED: https://hooks.example.com is not an allowed destination: not in --outbound-allow",
    ],
    ["an error without a code", fetchError(), "request failed"],
    // Node's fetch puts the URL in some messages: only codes are ever shown.
    [
      "a message with a URL is not shown",
      new TypeError("Failed to parse URL from https://hooks.slack.com/T/B/secret"),
      "request failed",
    ],
    [
      "a destination problem",
      new DestinationError("SECRET_NOT_FOUND", "slack:d url: Secret ns/s not found"),
      "SECRET_NOT_FOUND: slack:d url: Secret ns/s not found",
    ],
  ])("%s", (_what, err, text) => {
    expect(failureText(err, 2500)).toBe(text);
  });
});

describe("refusalCode", () => {
  it.each([
    ["the outbound policy", new DestinationNotAllowed("http://127.0.0.1:9", "built-in: loopback"), "DESTINATION_NOT_ALLOWED"],
    ["a Secret not opted in", new DestinationError("SECRET_NOT_OPTED_IN", "s"), "SECRET_NOT_OPTED_IN"],
    ["a missing Secret (may be created)", new DestinationError("SECRET_NOT_FOUND", "s"), undefined],
    ["an unconfigured destination", new DestinationError("NOT_CONFIGURED", "d"), undefined],
    ["a refused connection", Object.assign(new Error("x"), { code: "ECONNREFUSED" }), undefined],
    ["not an error", "boom", undefined],
  ])("%s -> %s", (_what, err, code) => {
    expect(refusalCode(err)).toBe(code);
  });
});

describe("Dispatcher's sleep", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sets no timer with nothing pending, and one for when the next delivery falls due once one is added", async () => {
    vi.useFakeTimers({ now: 0 });
    const dispatcher = new Dispatcher({
      outbox: { load: async () => [] },
      settings: { current: () => emptyConfig(), untilRead: async () => true },
      userAgent: "test",
    } as unknown as DispatcherOptions);
    dispatcher.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    dispatcher.add("ns", [p("a/webhook:x#1@60000").entry]);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    await dispatcher.stop();
  });

  it("tries nothing before the settings are read (each delivery would find its destination unknown), then what waited", async () => {
    vi.useFakeTimers({ now: 0 });
    const read = Promise.withResolvers<void>();
    const failed: string[] = [];
    const dispatcher = new Dispatcher({
      outbox: { load: async () => [], reschedule: async () => {} },
      settings: {
        current: () => emptyConfig(),
        untilRead: () => read.promise.then(() => true),
      },
      observer: { notificationAttemptFailed: (d: string) => failed.push(d) },
      userAgent: "test",
    } as unknown as DispatcherOptions);
    dispatcher.start();
    dispatcher.add("ns", [p("a/webhook:x#1@0").entry]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(failed).toEqual([]);
    read.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(failed).toEqual(["webhook:x"]);
    await dispatcher.stop();
  });
});
