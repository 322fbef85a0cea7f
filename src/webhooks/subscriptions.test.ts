import { describe, expect, it } from "vitest";
import { DEFAULT_DELIVERY, eventName, parseConfig, subscribers } from "./subscriptions.ts";

const DESTINATIONS = `
slack:
  deploys:
    urlFrom: {secretKeyRef: {name: slack, key: url}}
    dashboardUrl: https://grafana.example/d/ramp?var-rollout={{rollout}}
webhook:
  oncall:
    url: https://oncall.example/hook
    signingKeyFrom: {secretKeyRef: {name: oncall, key: signing-key}}
    headers: {X-Team: payments}
    headersFrom: {Authorization: {secretKeyRef: {name: oncall, key: token}}}
`;

describe("parseConfig", () => {
  it("reads destinations, defaults and delivery settings", () => {
    const { config, problems } = parseConfig({
      destinations: DESTINATIONS,
      "on-aborted": "slack:deploys, webhook:oncall",
      "on-all": "webhook:oncall",
      delivery: "maxAttempts: 3\ninitialBackoff: 500ms\nmaxBackoff: 1m\ntimeout: 5s",
    });
    expect(problems).toEqual([]);
    expect(config.destinations.get("slack:deploys")).toEqual({
      id: "slack:deploys",
      kind: "slack",
      url: { secretKeyRef: { name: "slack", key: "url" } },
      headers: {},
      dashboardUrl: "https://grafana.example/d/ramp?var-rollout={{rollout}}",
    });
    expect(config.destinations.get("webhook:oncall")).toEqual({
      id: "webhook:oncall",
      kind: "webhook",
      url: { value: "https://oncall.example/hook" },
      signingKey: { name: "oncall", key: "signing-key" },
      headers: { "X-Team": { value: "payments" }, Authorization: { secretKeyRef: { name: "oncall", key: "token" } } },
    });
    expect(config.defaults).toEqual(
      new Map([
        ["aborted", ["slack:deploys", "webhook:oncall"]],
        ["all", ["webhook:oncall"]],
      ]),
    );
    expect(config.delivery).toEqual({
      ...DEFAULT_DELIVERY,
      maxAttempts: 3,
      initialBackoffMs: 500,
      maxBackoffMs: 60_000,
      timeoutMs: 5_000,
    });
  });

  it.each([
    ["not YAML", { destinations: "slack: [" }, "BAD_YAML", 'key "destinations": not YAML'],
    ["an unknown kind", { destinations: "teams: {a: {}}" }, "BAD_DESTINATION", 'unknown kind "teams"'],
    [
      "a Slack URL in the clear",
      { destinations: "slack: {a: {url: 'https://hooks.slack.com/x'}}" },
      "BAD_DESTINATION",
      'Unrecognized key: "url"',
    ],
    [
      "a webhook with both url and urlFrom",
      { destinations: "webhook: {a: {url: 'https://x', urlFrom: {secretKeyRef: {name: s, key: k}}}}" },
      "BAD_DESTINATION",
      "set exactly one of url or urlFrom",
    ],
    [
      "a secret ref without key",
      { destinations: "webhook: {a: {urlFrom: {secretKeyRef: {name: s}}}}" },
      "BAD_DESTINATION",
      "webhook.a: urlFrom.secretKeyRef.key:",
    ],
    ["a non-http URL", { destinations: "webhook: {a: {url: 'ftp://x'}}" }, "BAD_DESTINATION", "url: must be an http(s) URL"],
    [
      "a bad name",
      { destinations: "webhook: {Bad_Name: {url: 'https://x'}}" },
      "BAD_DESTINATION",
      "webhook.Bad_Name: name must be",
    ],
    [
      "a reserved header",
      { destinations: "webhook: {a: {url: 'https://x', headers: {X-Ramp-Signature: forged}}}" },
      "BAD_DESTINATION",
      'header "X-Ramp-Signature"',
    ],
    ["an unknown key", { colour: "blue" }, "UNKNOWN_KEY", 'key "colour": unknown'],
    ["an unknown event", { "on-exploded": "webhook:a" }, "UNKNOWN_EVENT", 'key "on-exploded": unknown event "exploded"'],
    [
      "an unknown destination",
      { "on-aborted": "slack:nope" },
      "UNKNOWN_DESTINATION",
      'destination "slack:nope" is not configured',
    ],
    ["bad delivery settings", { delivery: "maxAttempts: 0" }, "BAD_DELIVERY", 'key "delivery": maxAttempts:'],
    ["maxBackoff below initialBackoff", { delivery: "initialBackoff: 1m\nmaxBackoff: 1s" }, "BAD_DELIVERY", "maxBackoff"],
  ])("reports %s, naming the key, and keeps going", (_what, data, code, text) => {
    const { config, problems } = parseConfig(data as Record<string, string>);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe(code);
    expect(problems[0]?.message).toContain(text);
    expect(config.delivery.maxAttempts).toBeGreaterThan(0);
  });

  it("keeps the good destinations next to a bad one", () => {
    const { config, problems } = parseConfig({
      destinations: "webhook:\n  good: {url: 'https://x'}\n  bad: {url: 42}",
    });
    expect([...config.destinations.keys()]).toEqual(["webhook:good"]);
    expect(problems.map((p) => p.message)).toEqual([
      'key "destinations", webhook.bad: url: Invalid input: expected string, received number',
    ]);
  });
});

describe("subscribers", () => {
  const { config } = parseConfig({
    destinations: DESTINATIONS,
    "on-completed": "slack:deploys",
    "on-all": "",
  });
  it.each([
    ["defaults only", {}, "completed", ["slack:deploys"], []],
    ["no subscription", {}, "aborted", [], []],
    ["an annotation adds", { "notifications.ramp.dev/on-aborted": "webhook:oncall" }, "aborted", ["webhook:oncall"], []],
    [
      "each destination once, defaults first",
      { "notifications.ramp.dev/on-completed": "webhook:oncall, slack:deploys" },
      "completed",
      ["slack:deploys", "webhook:oncall"],
      [],
    ],
    ["on-all matches every event", { "notifications.ramp.dev/on-all": "webhook:oncall" }, "paused", ["webhook:oncall"], []],
    ["other annotations are ignored", { "example.com/on-aborted": "webhook:oncall" }, "aborted", [], []],
    [
      "an unknown destination is a problem, the rest still go",
      { "notifications.ramp.dev/on-aborted": "slack:nope,webhook:oncall" },
      "aborted",
      ["webhook:oncall"],
      ['annotation "notifications.ramp.dev/on-aborted": destination "slack:nope" is not configured'],
    ],
    [
      "an unknown event is a problem",
      { "notifications.ramp.dev/on-borked": "webhook:oncall" },
      "aborted",
      [],
      ['annotation "notifications.ramp.dev/on-borked": unknown event "borked"'],
    ],
  ] as const)("%s", (_what, annotations, event, ids, problems) => {
    const got = subscribers(config, annotations, event);
    expect(got.destinations.map((d) => d.id)).toEqual(ids);
    expect(got.problems.map((p) => p.message.slice(0, problems[0]?.length ?? 0))).toEqual(problems);
  });
});

describe("eventName", () => {
  it.each([
    ["RolloutAborted", "aborted"],
    ["StepCompleted", "step-completed"],
    ["AnalysisRunInconclusive", "analysis-inconclusive"],
    ["ProgressDeadlineExceeded", "progress-deadline-exceeded"],
    ["NotificationDeadLettered", undefined],
    ["toString", undefined],
  ])("%s -> %s", (reason, name) => {
    expect(eventName(reason)).toBe(name);
  });
});
