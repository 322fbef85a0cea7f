import { describe, expect, it } from "vitest";
import { buildPayload, type NotificationPayload } from "./payload.ts";
import { dashboardLink, slackMessage } from "./slack.ts";

const payload = (over: Partial<NotificationPayload> = {}): NotificationPayload => ({
  ...(buildPayload(
    {
      metadata: { name: "checkout", namespace: "shop", uid: "u" },
      spec: {
        strategy: { canary: { steps: [{}, {}, {}] } },
        template: { spec: { containers: [{ name: "app", image: "checkout:2" }] } },
      },
    },
    {
      phase: "Degraded",
      message: "aborted: traffic back to stable revision old",
      currentPodHash: "new",
      stableRS: "old",
      currentStepIndex: 1,
    },
    { reason: "RolloutAborted", message: "aborted at step 1: analysis run checkout-new-step1 failed", warning: true },
    new Date("2025-03-01T12:00:00Z"),
    { run: "checkout-new-step1", phase: "Failed", metric: "errors", value: "0.12" },
  ) as NotificationPayload),
  ...over,
});

const texts = (blocks: Record<string, unknown>[]) => JSON.stringify(blocks);

describe("slackMessage", () => {
  it("has a header, the message, the fields and a context line", () => {
    const m = slackMessage(payload());
    expect(m.text).toBe("shop/checkout aborted: aborted at step 1: analysis run checkout-new-step1 failed");
    expect(m.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(m.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: ":rotating_light: shop/checkout aborted" } });
    const fields = (m.blocks[2] as { fields: { text: string }[] }).fields.map((f) => f.text);
    expect(fields).toEqual([
      "*Rollout*\nshop/checkout",
      "*Revision*\nnew (checkout:2)",
      "*Step*\n1 of 3 done",
      "*Weight*\n0%",
      "*Outcome*\nDegraded: aborted: traffic back to stable revision old",
      "*Analysis*\ncheckout-new-step1 Failed: errors = 0.12",
    ]);
  });

  it.each([
    ["no analysis", { analysis: undefined }, "*Analysis*", false],
    [
      "analysis without a metric shows its message",
      { analysis: { run: "r", phase: "Error", message: "boom" } },
      "r Error: boom",
      true,
    ],
    ["blue-green has no step", { step: undefined }, "*Step*", false],
    ["mrkdwn control characters are escaped", { message: "a <b> & c" }, "a &lt;b&gt; &amp; c", true],
  ] as [string, Partial<NotificationPayload>, string, boolean][])("%s", (_what, over, text, present) => {
    expect(texts(slackMessage(payload(over)).blocks).includes(JSON.stringify(text).slice(1, -1))).toBe(present);
  });

  it("adds a dashboard button when configured", () => {
    const m = slackMessage(payload(), "https://grafana.example/d/ramp?var-ns={{namespace}}&var-rollout={{ rollout }}");
    expect(m.blocks[3]).toEqual({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: "Dashboard" },
          url: "https://grafana.example/d/ramp?var-ns=shop&var-rollout=checkout",
        },
      ],
    });
  });

  it("keeps within Slack's limits", () => {
    const m = slackMessage(payload({ message: "x".repeat(5000), rollout: { ...payload().rollout, name: "n".repeat(200) } }));
    expect((m.blocks[0] as { text: { text: string } }).text.text.length).toBe(150);
    expect((m.blocks[1] as { text: { text: string } }).text.text.length).toBe(3000);
    expect(m.text.length).toBe(3000);
  });
});

describe("dashboardLink", () => {
  it.each([
    ["https://g/d?r={{rollout}}&n={{namespace}}&v={{revision}}", "https://g/d?r=checkout&n=shop&v=new"],
    ["https://g/d?x={{unknown}}", "https://g/d?x={{unknown}}"],
    ["https://g/d", "https://g/d"],
  ])("%s", (template, link) => {
    expect(dashboardLink(template, payload())).toBe(link);
  });

  it("encodes what it fills in", () => {
    const p = payload({ rollout: { ...payload().rollout, name: "a&b=c" } });
    expect(dashboardLink("https://g/?r={{rollout}}", p)).toBe("https://g/?r=a%26b%3Dc");
  });
});
