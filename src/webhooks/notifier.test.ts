// The notifier before its settings are read: a reconcile's events wait for them (the reconcile does
// not), and are matched once they are read, in order; a stop before then tells of each.
import { describe, expect, it, vi } from "vitest";
import { EventReason } from "../api/reasons.ts";
import type { Dispatcher } from "./dispatcher.ts";
import { MAX_HELD, Notifier, type NotifierOptions } from "./notifier.ts";
import type { Outbox, OutboxEntry } from "./outbox.ts";
import type { NotificationSettings } from "./settings.ts";
import { emptyConfig, parseConfig } from "./subscriptions.ts";

const { config } = parseConfig({
  destinations: "webhook:\n  oncall:\n    url: https://oncall.example/hook\n",
  "on-all": "webhook:oncall",
});

/** Settings whose ConfigMap is read when the test says so. */
function settingsReadLater() {
  const read = Promise.withResolvers<void>();
  const settings = {
    read: false,
    where: "ConfigMap ramp-system/ramp-notifications",
    current: () => (settings.read ? config : emptyConfig()),
    untilRead: (signal: AbortSignal) =>
      new Promise<boolean>((resolve) => {
        signal.addEventListener("abort", () => resolve(false), { once: true });
        void read.promise.then(() => resolve(true));
      }),
    warnOnce: () => {},
    finishReading: () => {
      settings.read = true;
      read.resolve();
    },
  };
  return settings;
}

function notifierWith(settings: ReturnType<typeof settingsReadLater>) {
  const written: OutboxEntry[] = [];
  const logged: string[] = [];
  const outbox = {
    name: "ramp-outbox",
    insert: async (_ns: string, entries: OutboxEntry[]) => {
      written.push(...entries);
      return { added: entries, overflow: [] };
    },
  };
  const notifier = new Notifier({
    settings: settings as unknown as NotificationSettings,
    outbox: outbox as unknown as Outbox,
    dispatcher: { add: () => {} } as unknown as Dispatcher,
    client: {} as NotifierOptions["client"],
    log: (line) => logged.push(line),
  });
  return { notifier, written, logged };
}

const rollout = { metadata: { name: "web", namespace: "ns", uid: "u1" }, spec: {} };
const status = { currentPodHash: "h2", stableRS: "h1" };
const event = (reason: string) => [{ reason, message: reason }];
const NOW = new Date("2026-12-03T00:00:00Z");

describe("Notifier before its settings are read", () => {
  it("holds a reconcile's events without holding the reconcile, and matches them once read, in order", async () => {
    const settings = settingsReadLater();
    const { notifier, written } = notifierWith(settings);
    await notifier.enqueue(rollout, status, event(EventReason.RolloutUpdated), NOW);
    await notifier.enqueue(rollout, status, event(EventReason.RolloutPaused), NOW);
    expect(written).toEqual([]);
    settings.finishReading();
    await notifier.enqueue(rollout, status, event(EventReason.RolloutCompleted), NOW);
    await vi.waitFor(() => expect(written).toHaveLength(3));
    expect(written.map((e) => e.payload.reason)).toEqual([
      EventReason.RolloutUpdated,
      EventReason.RolloutPaused,
      EventReason.RolloutCompleted,
    ]);
    expect(written.map((e) => e.destination)).toEqual(["webhook:oncall", "webhook:oncall", "webhook:oncall"]);
    await notifier.stop();
  });

  it("stopped before they are read: each reconcile's events are a warning naming the Rollout, never dropped silently", async () => {
    const settings = settingsReadLater();
    const { notifier, written, logged } = notifierWith(settings);
    await notifier.enqueue(rollout, status, event(EventReason.RolloutAborted), NOW);
    await notifier.stop();
    expect(written).toEqual([]);
    expect(logged).toEqual([
      expect.stringMatching(
        /events RolloutAborted of rollout ns\/web were not notified as the controller stopped before ConfigMap ramp-system\/ramp-notifications could be read/,
      ),
    ]);
  });

  it(`keeps at most ${MAX_HELD} reconciles waiting: the oldest are let go, each a warning`, async () => {
    const settings = settingsReadLater();
    const { notifier, written, logged } = notifierWith(settings);
    for (let i = 0; i < MAX_HELD + 2; i++) await notifier.enqueue(rollout, status, event(`${EventReason.RolloutUpdated}`), NOW);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/were not notified as too many waited before ConfigMap/);
    settings.finishReading();
    await vi.waitFor(() => expect(written).toHaveLength(MAX_HELD));
    await notifier.stop();
  });
});
