// Pure: a notification as a Slack incoming-webhook message, with Block Kit blocks and a plain
// `text` fallback (used by notifications on phones and by clients without blocks).
import { brief } from "../api/brief.ts";
import type { NotificationPayload } from "./payload.ts";
import type { EventName } from "./subscriptions.ts";

const TITLES: Record<EventName, string> = {
  updated: "new revision",
  "step-completed": "step completed",
  paused: "paused",
  resumed: "resumed",
  promoted: "promoted",
  completed: "completed",
  aborted: "aborted",
  retried: "retried",
  restarted: "restarted",
  "analysis-successful": "analysis successful",
  "analysis-failed": "analysis failed",
  "analysis-inconclusive": "analysis inconclusive",
  "analysis-error": "analysis error",
  "progress-deadline-exceeded": "progress deadline exceeded",
  "invalid-spec": "invalid spec",
  "stable-replicaset-recreated": "stable ReplicaSet recreated",
  "stable-replicaset-lost": "stable ReplicaSet lost",
};

const EMOJI: Partial<Record<EventName, string>> = {
  completed: ":white_check_mark:",
  promoted: ":rocket:",
  aborted: ":rotating_light:",
  paused: ":double_vertical_bar:",
  "analysis-failed": ":x:",
  "analysis-error": ":x:",
  "progress-deadline-exceeded": ":hourglass:",
  "invalid-spec": ":warning:",
  "stable-replicaset-recreated": ":warning:",
  "stable-replicaset-lost": ":rotating_light:",
};

// Slack's limits: header text 150 characters, section text 3000, a field 2000.
/** Slack mrkdwn treats &, < and > as control characters. */
const esc = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** Fills `{{namespace}}`, `{{rollout}}` and `{{revision}}` in a dashboard URL, URL-encoded. */
export function dashboardLink(template: string, p: NotificationPayload): string {
  const values: Record<string, string> = {
    namespace: p.rollout.namespace,
    rollout: p.rollout.name,
    revision: p.revision.podTemplateHash,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (all, name: string) =>
    name in values ? encodeURIComponent(values[name] as string) : all,
  );
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export function slackMessage(p: NotificationPayload, dashboardUrl?: string): SlackMessage {
  const who = `${p.rollout.namespace}/${p.rollout.name}`;
  const title = TITLES[p.event];
  const images = p.revision.images.map((i) => i.image).join(", ");
  const field = (label: string, value: string) => ({ type: "mrkdwn", text: brief(`*${label}*\n${esc(value)}`, 2000) });
  const fields = [
    field("Rollout", who),
    field("Revision", `${p.revision.podTemplateHash}${images ? ` (${images})` : ""}`),
    ...(p.step ? [field("Step", `${p.step.completed} of ${p.step.total} done`)] : []),
    field("Weight", `${p.weight}%`),
    field("Outcome", `${p.outcome.phase}${p.outcome.message ? `: ${p.outcome.message}` : ""}`),
  ];
  const a = p.analysis;
  if (a) {
    const metric = a.metric ? `${a.metric}${a.value !== undefined ? ` = ${a.value}` : ""}` : a.message;
    fields.push(field("Analysis", `${a.run} ${a.phase}${metric ? `: ${metric}` : ""}`));
  }
  const link = dashboardUrl ? dashboardLink(dashboardUrl, p) : undefined;
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: brief(`${EMOJI[p.event] ?? ""} ${who} ${title}`.trim(), 150) } },
    { type: "section", text: { type: "mrkdwn", text: brief(esc(p.message), 3000) } },
    { type: "section", fields },
    ...(link
      ? [
          {
            type: "actions",
            elements: [{ type: "button", text: { type: "plain_text", text: "Dashboard" }, url: brief(link, 3000) }],
          },
        ]
      : []),
    { type: "context", elements: [{ type: "mrkdwn", text: `ramp · ${p.event} · ${p.timestamp}` }] },
  ];
  return { text: brief(`${who} ${title}: ${p.message}`, 3000), blocks };
}
