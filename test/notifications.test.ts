// Notifications end to end: the controller as a process on the dev cluster, delivering to real HTTP
// receivers on 127.0.0.1 (a Slack-shaped one and a signed webhook). Receivers go down, hang, and
// the controller is SIGKILLed with deliveries pending: every event still arrives, in order.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { verify } from "../src/webhooks/signature.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  analysisTemplate,
  type ControllerLaunch,
  type ControllerProcess,
  getRollout,
  rollout,
  setImage,
  startController,
  waitForRollout,
} from "./rollouts.ts";

const SIGNING_KEY = `key-${randomBytes(8).toString("hex")}`;
/** In the receivers' URLs, like the token in a Slack webhook URL: must never show up anywhere. */
const URL_TOKEN = `T0-${randomBytes(8).toString("hex")}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A real HTTP receiver. `slack` answers like Slack's incoming webhooks (400 for a bad message). */
class Receiver {
  readonly received: Received[] = [];
  /** "hang": accept the request and never answer. */
  mode: "ok" | "hang" = "ok";
  private server: Server | undefined;
  private port = 0;
  private readonly held: ServerResponse[] = [];
  private readonly slack: boolean;

  constructor(kind: "slack" | "webhook") {
    this.slack = kind === "slack";
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/services/${URL_TOKEN}`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        this.received.push({ headers: req.headers, body, at: Date.now() });
        if (this.mode === "hang") {
          this.held.push(res);
          return;
        }
        const bad = this.slack && !slackShaped(body);
        res.writeHead(bad ? 400 : 200, { "content-type": "text/plain" }).end(bad ? "invalid_blocks" : "ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: the port refuses connections until `up()` again. */
  async down(): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
    this.server = undefined;
  }

  /** The first delivery of each idempotency key, in order of arrival, of one rollout. */
  unique(rolloutName?: string): Received[] {
    const seen = new Set<string>();
    return this.received.filter((r) => {
      const key = String(r.headers["x-ramp-idempotency-key"]);
      if (seen.has(key) || (rolloutName && rolloutOf(r) !== rolloutName)) return false;
      seen.add(key);
      return true;
    });
  }

  events(rolloutName: string): string[] {
    return this.unique(rolloutName).map((r) => String(r.headers["x-ramp-event"]));
  }
}

/** What Slack checks of an incoming-webhook message, roughly: text or blocks, each block typed. */
function slackShaped(body: string): boolean {
  try {
    const m = JSON.parse(body) as { text?: unknown; blocks?: { type?: unknown; text?: { text?: string } }[] };
    if (typeof m.text !== "string" && !Array.isArray(m.blocks)) return false;
    return (m.blocks ?? []).every(
      (b) => typeof b.type === "string" && (b.type !== "header" || (b.text?.text?.length ?? 0) <= 150),
    );
  } catch {
    return false;
  }
}

/** The rollout a delivery is about: from the payload (webhook) or the Slack header block. */
function rolloutOf(r: Received): string {
  const body = JSON.parse(r.body) as { rollout?: { name: string }; blocks?: { text?: { text: string } }[] };
  if (body.rollout) return body.rollout.name;
  const header = body.blocks?.[0]?.text?.text ?? "";
  return /\S+\/(\S+)/.exec(header)?.[1] ?? "";
}

const FULL = ["updated", "updated", "step-completed", "paused", "resumed", "step-completed", "completed"];
const ABORTED = ["updated", "updated", "step-completed", "analysis-failed", "aborted"];

interface Env {
  ns: string;
  slack: Receiver;
  hook: Receiver;
  hang: Receiver;
  controller: ControllerProcess;
  args: string[];
}

let env: Env | undefined;
/** Cluster-scoped objects a test made (admission policies, webhooks), deleted after it. */
const cleanup: { apiVersion: string; kind: string; name: string }[] = [];

afterEach(async (ctx) => {
  for (const o of cleanup.splice(0)) await kube().delete(o.apiVersion, o.kind, o.name);
  if (!env) return;
  if (ctx.task.result?.state === "fail") console.log(`controller log:\n${env.controller.output().slice(-6000)}`);
  await env.controller.stop();
  for (const r of [env.slack, env.hook, env.hang]) await r.down();
  env = undefined;
});

/** A namespace with receivers, their Secret, the notifications ConfigMap, and a controller. */
async function setup(prefix: string, delivery: Record<string, unknown>, launch: ControllerLaunch = {}): Promise<Env> {
  const ns = await namespace(prefix);
  const [slack, hook, hang] = [new Receiver("slack"), new Receiver("webhook"), new Receiver("webhook")];
  for (const r of [slack, hook, hang]) await r.up();
  hang.mode = "hang";
  await kube().create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "receivers", namespace: ns, labels: { "ramp.dev/secret-access": "notifications" } },
    stringData: { slack: slack.url, hook: hook.url, hang: hang.url, "signing-key": SIGNING_KEY },
  });
  const fromSecret = (key: string) => ({ secretKeyRef: { name: "receivers", key } });
  const destinations = {
    slack: {
      deploys: {
        urlFrom: fromSecret("slack"),
        dashboardUrl: "http://grafana.example/d/ramp?var-ns={{namespace}}&var-r={{rollout}}",
      },
    },
    webhook: {
      oncall: { urlFrom: fromSecret("hook"), signingKeyFrom: fromSecret("signing-key"), headers: { "X-Team": "payments" } },
      hang: { urlFrom: fromSecret("hang") },
    },
  };
  await kube().create({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "ramp-notifications", namespace: ns },
    data: { destinations: JSON.stringify(destinations), delivery: JSON.stringify(delivery) },
  });
  const args = ["--namespace", ns, "--leader-election-namespace", ns, "--no-analysis"];
  const controller = await startController(args, launch);
  env = { ns, slack, hook, hang, controller, args };
  return env;
}

const STEPS_FULL = [{ setWeight: 50 }, { pause: { duration: "2s" } }];

async function createRollout(ns: string, name: string, steps: unknown[], subscribe: Record<string, string>): Promise<void> {
  const r = rollout(ns, name, { replicas: 2, strategy: { canary: { steps } } });
  r.metadata.annotations = Object.fromEntries(Object.entries(subscribe).map(([k, v]) => [`notifications.ramp.dev/on-${k}`, v]));
  await kube().create(r);
}

/** First revision, then v2 through the steps to Healthy. */
async function fullRollout(ns: string, name: string, subscribe: Record<string, string>): Promise<void> {
  await createRollout(ns, name, STEPS_FULL, subscribe);
  await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy");
  await setImage(ns, name, `${name}:2`);
  await waitForRollout(
    ns,
    name,
    "v2 healthy",
    (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash && s.currentStepIndex === 2,
  );
}

type Obj = KubeObject & { data?: Record<string, string>; reason?: string; message?: string; involvedObject?: { name: string } };

const outboxData = async (ns: string) =>
  (
    await kube()
      .get<Obj>("v1", "ConfigMap", "ramp-outbox", ns)
      .catch(() => undefined)
  )?.data ?? {};
const pendingIn = (data: Record<string, string>) => Object.values(data).filter((v) => v.includes('"payload"')).length;

async function metric(controller: ControllerProcess, line: RegExp): Promise<number> {
  const text = await (await fetch(`${controller.url}/metrics`)).text();
  return Number(line.exec(text)?.[1] ?? 0);
}

describe("notifications", () => {
  it("a Slack-shaped receiver and a signed webhook get the documented payload for each event of a full and an aborted rollout", async () => {
    const { ns, slack, hook, controller } = await setup("notify", { initialBackoff: "200ms", maxBackoff: "2s" });
    await kube().create(analysisTemplate(ns, "checks"));
    const subscribe = { all: "slack:deploys, webhook:oncall" };

    // The aborted one: its analysis step fails on the "errors" metric with 0.12, set by hand as the
    // analysis controller would.
    const aborting = (async () => {
      await createRollout(
        ns,
        "bad",
        [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "checks" }] } }, { setWeight: 100 }],
        subscribe,
      );
      await waitForRollout(ns, "bad", "first revision healthy", (s) => s.phase === "Healthy");
      await setImage(ns, "bad", "bad:2");
      const run = await eventually(
        "the step's run",
        async () => (await getRollout(ns, "bad")).status?.canary?.currentStepAnalysisRun?.name,
        60_000,
      );
      const at = new Date().toISOString();
      await kube().patch(
        "ramp.dev/v1alpha1",
        "AnalysisRun",
        run,
        ns,
        {
          status: {
            phase: "Failed",
            message: 'metric "errors" Failed: 1 failed > failureLimit 0',
            startedAt: at,
            metricResults: [
              {
                name: "errors",
                phase: "Failed",
                count: 1,
                failed: 1,
                message: "1 failed > failureLimit 0",
                measurements: [{ phase: "Failed", value: "0.12", startedAt: at, finishedAt: at }],
              },
            ],
          },
        },
        { subresource: "status" },
      );
      await waitForRollout(ns, "bad", "aborted", (s) => s.phase === "Degraded");
    })();
    await Promise.all([fullRollout(ns, "good", subscribe), aborting]);

    for (const r of [slack, hook]) {
      await eventually(
        "every event delivered",
        async () => r.events("good").length >= FULL.length && r.events("bad").length >= ABORTED.length,
        30_000,
      );
      expect(r.events("good")).toEqual(FULL);
      expect(r.events("bad")).toEqual(ABORTED);
    }
    // The controller recorded the same events as core/v1 Events.
    const events = await kube().list<Obj>("v1", "Event", ns);
    for (const [name, expected] of [
      ["good", FULL],
      ["bad", ABORTED],
    ] as const) {
      const reasons = events.filter((e) => e.involvedObject?.name === name).map((e) => e.reason);
      expect(reasons).toHaveLength(expected.length);
    }

    // The webhook: the documented v1 payload, signed, the key in the body and the header.
    for (const r of hook.unique()) {
      const p = JSON.parse(r.body);
      expect(p).toMatchObject({
        apiVersion: "ramp.dev/notification/v1",
        idempotencyKey: r.headers["x-ramp-idempotency-key"],
        event: r.headers["x-ramp-event"],
        rollout: { namespace: ns, strategy: "canary" },
        outcome: { phase: expect.any(String) },
      });
      expect(p.idempotencyKey).toMatch(/^[0-9a-f]{32}$/);
      expect(Date.parse(p.timestamp)).toBeGreaterThan(0);
      expect(p.rollout.uid).toBe((await getRollout(ns, p.rollout.name)).metadata.uid);
      expect(r.headers["x-team"]).toBe("payments");
      expect(verify(r.headers["x-ramp-signature"] as string, r.body, SIGNING_KEY)).toMatchObject({ ok: true });
    }
    const completed = hook
      .unique("good")
      .map((r) => JSON.parse(r.body))
      .find((p) => p.event === "completed");
    expect(completed).toMatchObject({
      reason: "RolloutCompleted",
      severity: "info",
      revision: { images: [{ container: "good", image: "good:2" }] },
      step: { completed: 2, total: 2 },
      weight: 100,
      outcome: { phase: expect.stringMatching(/Healthy|Progressing/) },
    });
    const aborted = hook
      .unique("bad")
      .map((r) => JSON.parse(r.body))
      .find((p) => p.event === "aborted");
    expect(aborted).toMatchObject({
      reason: "RolloutAborted",
      severity: "warning",
      step: { completed: 1, total: 3 },
      weight: 0,
      outcome: { phase: "Degraded" },
      analysis: { phase: "Failed", metric: "errors", value: "0.12" },
    });

    // Slack: the same keys, the message with blocks, the failing metric and the dashboard link.
    expect(
      slack
        .unique()
        .map((r) => r.headers["x-ramp-idempotency-key"])
        .sort(),
    ).toEqual(
      hook
        .unique()
        .map((r) => r.headers["x-ramp-idempotency-key"])
        .sort(),
    );
    const slackAbort = JSON.stringify(JSON.parse(slack.unique("bad").at(-1)?.body ?? "{}"));
    expect(slackAbort).toContain(`:rotating_light: ${ns}/bad aborted`);
    expect(slackAbort).toContain("errors = 0.12");
    expect(slackAbort).toContain(`http://grafana.example/d/ramp?var-ns=${ns}&var-r=bad`);
    expect(slack.received.every((r) => slackShaped(r.body))).toBe(true);

    // A replay: the same signed request later is refused by its timestamp, and its key is a repeat.
    const captured = hook.unique()[0] as Received;
    const t = Number(/t=(\d+)/.exec(String(captured.headers["x-ramp-signature"]))?.[1]);
    expect(verify(captured.headers["x-ramp-signature"] as string, captured.body, SIGNING_KEY, 300, t + 301)).toEqual({
      ok: false,
      reason: "TOO_OLD",
    });
    expect(
      verify(captured.headers["x-ramp-signature"] as string, captured.body.replace("canary", "canarx"), SIGNING_KEY),
    ).toEqual({
      ok: false,
      reason: "BAD_SIGNATURE",
    });
    const replayed = Object.entries(captured.headers).filter(([h]) => h.startsWith("x-ramp-") || h === "content-type");
    await fetch(hook.url, {
      method: "POST",
      headers: Object.fromEntries(replayed) as Record<string, string>,
      body: captured.body,
    });
    const key = captured.headers["x-ramp-idempotency-key"];
    expect(hook.received.filter((r) => r.headers["x-ramp-idempotency-key"] === key)).toHaveLength(2);
    expect(hook.unique().filter((r) => r.headers["x-ramp-idempotency-key"] === key)).toHaveLength(1);

    // Nothing read from the Secret shows up in the log, the outbox or the Events.
    await eventually("the outbox settled", async () => pendingIn(await outboxData(ns)) === 0);
    const everywhere = `${controller.output()}${JSON.stringify(await outboxData(ns))}${JSON.stringify(await kube().list("v1", "Event", ns))}`;
    expect(everywhere).not.toContain(URL_TOKEN);
    expect(everywhere).not.toContain(SIGNING_KEY);
    expect(await metric(controller, /ramp_notifications_delivered_total\{destination="webhook:oncall"\} (\d+)/)).toBe(
      FULL.length + ABORTED.length,
    );
  }, 240_000);

  it("a receiver down for 30 s, then up: every event arrives, each key once, in order", async () => {
    const { ns, slack, controller } = await setup("down", { initialBackoff: "500ms", maxBackoff: "4s", maxAttempts: 50 });
    await slack.down();
    const downAt = Date.now();
    await fullRollout(ns, "web", { all: "slack:deploys" });
    await eventually("every event in the outbox", async () => pendingIn(await outboxData(ns)) === FULL.length, 30_000);
    await sleep(Math.max(0, 30_000 - (Date.now() - downAt)));
    const failed = await metric(controller, /ramp_notification_attempts_failed_total\{destination="slack:deploys"\} (\d+)/);
    await slack.up();
    const upAt = Date.now();
    await eventually("every event delivered", async () => slack.events("web").length === FULL.length, 30_000);
    const lastAt = Math.max(...slack.received.map((r) => r.at));
    expect(slack.events("web")).toEqual(FULL);
    console.log(
      `receiver down ${Math.round((upAt - downAt) / 1000)}s: ${failed} failed attempts; all ${FULL.length} events ` +
        `${((lastAt - upAt) / 1000).toFixed(1)}s after it came back; ${slack.received.length} requests for ${slack.unique().length} keys`,
    );
    expect(failed).toBeGreaterThan(0);
    await eventually("the outbox settled", async () => pendingIn(await outboxData(ns)) === 0);
    expect(await metric(controller, /ramp_notifications_pending (\d+)/)).toBe(0);
  }, 180_000);

  it("the controller SIGKILLed with deliveries pending: they arrive after the restart", async () => {
    const e = await setup("crash", { initialBackoff: "500ms", maxBackoff: "2s", maxAttempts: 50 });
    const { ns, slack } = e;
    await slack.down();
    await fullRollout(ns, "web", { all: "slack:deploys" });
    await eventually("every event in the outbox", async () => pendingIn(await outboxData(ns)) === FULL.length, 30_000);
    await e.controller.stop("SIGKILL");
    await slack.up();
    await sleep(2_000);
    expect(slack.received).toHaveLength(0);
    e.controller = await startController(e.args);
    await eventually("every event delivered", async () => slack.events("web").length === FULL.length, 60_000);
    expect(slack.events("web")).toEqual(FULL);
    await eventually("the outbox settled", async () => pendingIn(await outboxData(ns)) === 0);
  }, 180_000);

  it("a receiver that hangs does not slow another rollout's reconciliation; it is dead-lettered with an Event", async () => {
    const { ns, slack, hang, controller } = await setup("hang", {
      timeout: "10s",
      maxAttempts: 2,
      initialBackoff: "200ms",
      maxBackoff: "1s",
    });
    await createRollout(ns, "quick", [{ setWeight: 50 }, { pause: {} }], { updated: "slack:deploys" });
    await waitForRollout(ns, "quick", "healthy", (s) => s.phase === "Healthy");

    /** Spec change -> status caught up, and -> its "updated" notification at the Slack receiver. */
    let image = 1;
    const change = async () => {
      const before = slack.events("quick").length;
      const start = performance.now();
      await setImage(ns, "quick", `quick:${++image}`);
      for (;;) {
        const r = await getRollout(ns, "quick");
        if (r.status?.observedGeneration === r.metadata.generation) break;
        await sleep(20);
      }
      const reconciled = performance.now() - start;
      while (slack.events("quick").length === before) await sleep(20);
      return { reconciled, notified: performance.now() - start };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join("/")})`;
    const measure = async () => {
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await change());
      return { reconciled: runs.map((r) => r.reconciled), notified: runs.map((r) => r.notified) };
    };
    const baseline = await measure();

    for (const name of ["h1", "h2", "h3"]) await createRollout(ns, name, [{ pause: {} }], { all: "webhook:hang" });
    await eventually("three deliveries hanging", async () => hang.received.length >= 3, 30_000);
    const hanging = await measure();
    console.log(
      `spec change -> status caught up, median of 5: ${ms(baseline.reconciled)} alone, ${ms(hanging.reconciled)} ` +
        `with 3 deliveries hanging; -> its notification at Slack: ${ms(baseline.notified)} alone, ${ms(hanging.notified)} hanging`,
    );
    expect(hang.received).toHaveLength(3);
    // A request hangs 10 s before it times out (still hanging here): a reconcile waiting on one would take that long.
    const [alone, slowed] = [median(baseline.reconciled), median(hanging.reconciled)];
    expect(slowed).toBeLessThan(Math.max(2 * alone, alone + 1_000));
    expect(median(hanging.notified)).toBeLessThan(Math.max(2 * median(baseline.notified), median(baseline.notified) + 1_000));

    const dead = await eventually(
      "dead-letter Events",
      async () => {
        const events = (await kube().list<Obj>("v1", "Event", ns)).filter((x) => x.reason === "NotificationDeadLettered");
        return events.length >= 3 ? events : undefined;
      },
      60_000,
    );
    expect(dead.map((x) => x.involvedObject?.name).sort()).toEqual(["h1", "h2", "h3"]);
    expect(dead[0]?.message).toMatch(
      /^DELIVERY_FAILED: notification "updated" \(key [0-9a-f]{32}\) to webhook:hang dropped after 2 attempts; last: no answer within 10s/,
    );
    expect(
      await metric(
        controller,
        /ramp_notifications_dead_letter_total\{destination="webhook:hang",reason="DELIVERY_FAILED"\} (\d+)/,
      ),
    ).toBe(3);
    expect(hang.received).toHaveLength(6);
  }, 180_000);
});

const ADMISSION = "admissionregistration.k8s.io/v1";
const CONFIGMAP_WRITES = { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"] };
const inNamespace = (ns: string) => ({ matchLabels: { "kubernetes.io/metadata.name": ns } });

/** Ways the apiserver itself refuses every write of the outbox ConfigMap in a namespace. */
const REFUSERS = {
  /** A ValidatingAdmissionPolicy, CEL run by the apiserver: 403/422, what a policy or RBAC says. */
  policy: {
    says: "test policy: no outbox here",
    objects: (ns: string, name: string) => [
      {
        apiVersion: ADMISSION,
        kind: "ValidatingAdmissionPolicy",
        metadata: { name },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: { resourceRules: [CONFIGMAP_WRITES] },
          validations: [{ expression: "object.metadata.name != 'ramp-outbox'", message: "test policy: no outbox here" }],
        },
      },
      {
        apiVersion: ADMISSION,
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name },
        spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: inNamespace(ns) } },
      },
    ],
  },
  /** A validating webhook that is down (failurePolicy Fail): a 500, what a passing outage looks like. */
  "webhook down": {
    says: "failed calling webhook",
    objects: (ns: string, name: string) => [
      {
        apiVersion: ADMISSION,
        kind: "ValidatingWebhookConfiguration",
        metadata: { name },
        webhooks: [
          {
            name: "outbox.refuse.ramp.test",
            // Port 1 on loopback: nothing listens, the connection is refused.
            clientConfig: { url: "https://127.0.0.1:1/validate" },
            rules: [CONFIGMAP_WRITES],
            namespaceSelector: inNamespace(ns),
            objectSelector: { matchLabels: { "ramp.dev/outbox": "ramp-outbox" } },
            failurePolicy: "Fail",
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
            timeoutSeconds: 2,
          },
        ],
      },
    ],
  },
} as const;

/** Makes the apiserver refuse the outbox of `ns`; resolves once it does. Returns what lifts the refusal. */
async function refuseOutbox(ns: string, how: keyof typeof REFUSERS): Promise<() => Promise<void>> {
  const { says, objects } = REFUSERS[how];
  const made = objects(ns, `refuse-outbox-${ns}`);
  for (const o of made) {
    await kube().create(o);
    // The binding (or webhook) first, then the policy.
    cleanup.unshift({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name });
  }
  await eventually("the apiserver refuses the outbox", async () => {
    const probe = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ramp-outbox", namespace: ns, labels: { "ramp.dev/outbox": "ramp-outbox" } },
    };
    const refused = await kube()
      .create(probe)
      .then(
        () => false,
        (err: unknown) => (err as Error).message.includes(says),
      );
    if (!refused) await kube().delete("v1", "ConfigMap", "ramp-outbox", ns);
    return refused;
  });
  const last = made[made.length - 1] as (typeof made)[number];
  return () => kube().delete(last.apiVersion, last.kind, last.metadata.name);
}

const deadLetters = async (ns: string) =>
  (await kube().list<Obj>("v1", "Event", ns)).filter((x) => x.reason === "NotificationDeadLettered");

describe("notification trouble never blocks a rollout", () => {
  it.each(Object.keys(REFUSERS) as (keyof typeof REFUSERS)[])(
    "an outbox the apiserver refuses (%s): the rollout completes; each event is dead-lettered with OUTBOX_WRITE_FAILED",
    async (how) => {
      const { ns, hook, controller } = await setup("refused", { initialBackoff: "200ms", maxBackoff: "1s" });
      await refuseOutbox(ns, how);
      const start = performance.now();
      await fullRollout(ns, "web", { all: "webhook:oncall" });
      const took = performance.now() - start;
      const dead = await eventually(
        "a dead letter for each event",
        async () => {
          const events = await deadLetters(ns);
          return events.length >= FULL.length ? events : undefined;
        },
        // 8 write attempts with backoff up to 20 s take at most about 70 s after the last event.
        150_000,
      );
      console.log(
        `outbox refused (${how}): rollout through its steps in ${(took / 1000).toFixed(1)}s; ${dead.length} dead letters`,
      );
      expect(dead).toHaveLength(FULL.length);
      for (const d of dead) {
        expect(d.involvedObject?.name).toBe("web");
        expect(d.message).toMatch(
          /^OUTBOX_WRITE_FAILED: notification "[a-z-]+" \(key [0-9a-f]{32}\) to webhook:oncall dropped as writing the outbox ConfigMap \S+\/ramp-outbox failed 8 times; last: /,
        );
        expect(d.message).toContain(REFUSERS[how].says);
      }
      expect(
        await metric(
          controller,
          /ramp_notifications_dead_letter_total\{destination="webhook:oncall",reason="OUTBOX_WRITE_FAILED"\} (\d+)/,
        ),
      ).toBe(FULL.length);
      expect(await metric(controller, /ramp_notifications_unwritten (\d+)/)).toBe(0);
      expect(controller.output()).toMatch(
        new RegExp(`dead letter: rollout ${ns}/web \\(uid [0-9a-f-]{36}\\) revision \\w+: OUTBOX_WRITE_FAILED`),
      );
      expect(hook.received).toHaveLength(0);
      expect(await outboxData(ns)).toEqual({});
    },
    240_000,
  );

  it("an outbox refused for a few seconds only: the write is retried, nothing is dead-lettered", async () => {
    const { ns, hook, controller } = await setup("vap-brief", {});
    const lift = await refuseOutbox(ns, "policy");
    await createRollout(ns, "web", STEPS_FULL, { all: "webhook:oncall" });
    await waitForRollout(ns, "web", "first revision healthy, the outbox refused", (s) => s.phase === "Healthy");
    await eventually(
      "a delivery waits for its write",
      async () => (await metric(controller, /ramp_notifications_unwritten (\d+)/)) > 0,
    );
    await lift();
    await eventually("the event delivered", async () => hook.events("web").length === 1, 60_000);
    expect(hook.events("web")).toEqual(["updated"]);
    expect(await metric(controller, /ramp_notifications_unwritten (\d+)/)).toBe(0);
    expect(await deadLetters(ns)).toHaveLength(0);
    expect(controller.output()).toMatch(
      /writing 1 deliveries to the outbox ConfigMap \S+ failed \(attempt 1: .*test policy: no outbox here\)/,
    );
  }, 120_000);

  it("a destination the outbound policy refuses (loopback, no --outbound-allow-loopback): nothing sent, each event dead-lettered once, the rollout completes", async () => {
    const { ns, hook, controller } = await setup(
      "denied",
      { initialBackoff: "200ms", maxBackoff: "1s" },
      { allowLoopback: false },
    );
    await fullRollout(ns, "web", { all: "webhook:oncall" });
    const dead = await eventually("a dead letter for each event", async () => {
      const events = await deadLetters(ns);
      return events.length >= FULL.length ? events : undefined;
    });
    await eventually("the outbox settled", async () => pendingIn(await outboxData(ns)) === 0);
    const settled = Object.values(await outboxData(ns)).map((v) => (JSON.parse(v) as { outcome?: string }).outcome);
    expect(settled).toEqual(FULL.map(() => "dead-lettered"));
    expect(dead).toHaveLength(FULL.length);
    const origin = new URL(hook.url).origin;
    for (const d of dead) {
      expect(d.message).toContain(
        `dropped after 1 attempts; last: DESTINATION_NOT_ALLOWED: ${origin} is not an allowed destination: built-in: loopback address`,
      );
      expect(d.message).toMatch(/^DESTINATION_NOT_ALLOWED: /);
      expect(d.message).not.toContain(URL_TOKEN);
    }
    expect(hook.received).toHaveLength(0);
    expect(
      await metric(
        controller,
        /ramp_notifications_dead_letter_total\{destination="webhook:oncall",reason="DESTINATION_NOT_ALLOWED"\} (\d+)/,
      ),
    ).toBe(FULL.length);
    expect(await metric(controller, /ramp_notification_attempts_failed_total\{destination="webhook:oncall"\} (\d+)/)).toBe(0);
    expect(controller.output()).not.toContain(URL_TOKEN);
  }, 180_000);
});
