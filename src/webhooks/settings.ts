// The notifications ConfigMap as the controller sees it now (re-read at most every few seconds, so
// an edit takes effect without a restart), and destinations resolved from their Secrets at send
// time. Secret values are never logged, stored or put in errors: errors name the Secret and key.
import { isNotFound, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { Log } from "../kube/log.ts";
import { readOptedInSecret, SecretAccessError, type SecretErrorCode, secretKey } from "../kube/secrets.ts";
import type { ResolvedDestination } from "./request.ts";
import {
  type ConfigProblem,
  type Destination,
  emptyConfig,
  type NotificationConfig,
  parseConfig,
  type SecretKeyRef,
  type ValueSource,
} from "./subscriptions.ts";

type ConfigMap = KubeObject & { metadata: { resourceVersion?: string }; data?: Record<string, string> };

/** A destination that cannot be used as configured: counted as a failed attempt, retried later. */
export class DestinationError extends Error {
  readonly code: SecretErrorCode | "BAD_URL" | "BAD_HEADER" | "NOT_CONFIGURED";
  constructor(code: DestinationError["code"], message: string) {
    super(message);
    this.name = "DestinationError";
    this.code = code;
  }
}

export interface SettingsOptions {
  namespace: string;
  name: string;
  /** How long a read of the ConfigMap or of a Secret is reused. */
  ttlMs?: number;
  log?: Log;
}

export class NotificationSettings {
  private readonly client: KubeClient;
  private readonly opts: SettingsOptions;
  private cached: { at: number; config: NotificationConfig } | undefined;
  private loading: Promise<NotificationConfig> | undefined;
  /** What was last said about the ConfigMap, so each change is logged once. */
  private lastState = "";
  private readonly secrets = new Map<string, { at: number; data?: Record<string, string>; refusal?: SecretAccessError }>();
  private readonly warned = new Set<string>();

  constructor(client: KubeClient, opts: SettingsOptions) {
    this.client = client;
    this.opts = opts;
  }

  get where(): string {
    return `ConfigMap ${this.opts.namespace}/${this.opts.name}`;
  }

  private get ttl(): number {
    return this.opts.ttlMs ?? 5_000;
  }

  /** The config now; an absent ConfigMap is an empty one (notifications off until it exists). */
  current(): Promise<NotificationConfig> {
    if (this.cached && Date.now() - this.cached.at < this.ttl) return Promise.resolve(this.cached.config);
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<NotificationConfig> {
    let config: NotificationConfig;
    try {
      const cm = await this.client.get<ConfigMap>("v1", "ConfigMap", this.opts.name, this.opts.namespace);
      const parsed = parseConfig(cm.data ?? {});
      config = parsed.config;
      this.say(
        `rv${cm.metadata.resourceVersion}`,
        () =>
          `notifications: ${this.where}: ${config.destinations.size} destinations` +
          parsed.problems.map((p) => `\n  ${p.code}: ${p.message}`).join(""),
      );
    } catch (err) {
      if (isNotFound(err)) {
        config = emptyConfig();
        this.say("absent", () => `notifications: ${this.where} not found; none are sent until it exists`);
      } else {
        // Keep what was known: a passing apiserver problem should not drop subscriptions.
        config = this.cached?.config ?? emptyConfig();
        this.opts.log?.(`notifications: reading ${this.where} failed: ${(err as Error).message}`, "warn");
      }
    }
    this.cached = { at: Date.now(), config };
    return config;
  }

  private say(state: string, line: () => string): void {
    if (state === this.lastState) return;
    this.lastState = state;
    this.opts.log?.(line());
  }

  /** Logs problems of a Rollout's subscriptions, each once. */
  warnOnce(rollout: string, problems: ConfigProblem[]): void {
    for (const p of problems) {
      const line = `notifications: rollout ${rollout}: ${p.code}: ${p.message}`;
      if (this.warned.has(line)) continue;
      if (this.warned.size > 1000) this.warned.clear();
      this.warned.add(line);
      this.opts.log?.(line, "warn");
    }
  }

  private async secretValue(ref: SecretKeyRef, what: string): Promise<string> {
    const { namespace } = this.opts;
    let entry = this.secrets.get(ref.name);
    if (!entry || Date.now() - entry.at >= this.ttl) {
      const read = await readOptedInSecret(this.client, namespace, ref.name, "notifications").then(
        (data) => ({ data }),
        (err: unknown) => {
          if (err instanceof SecretAccessError) return { refusal: err };
          throw err;
        },
      );
      entry = { at: Date.now(), ...read };
      this.secrets.set(ref.name, entry);
    }
    try {
      if (entry.refusal) throw entry.refusal;
      return secretKey(entry.data ?? {}, namespace, ref.name, ref.key).trim();
    } catch (err) {
      const e = err as SecretAccessError;
      throw new DestinationError(e.code, `${what}: ${e.message}`);
    }
  }

  private value(source: ValueSource, what: string): Promise<string> {
    return "value" in source ? Promise.resolve(source.value) : this.secretValue(source.secretKeyRef, what);
  }

  /** The destination with its URL, headers and signing key read. */
  async resolve(d: Destination): Promise<ResolvedDestination> {
    const url = await this.value(d.url, `${d.id} url`);
    if (!/^https?:\/\//.test(url) || !URL.canParse(url)) {
      throw new DestinationError("BAD_URL", `${d.id} url: the value is not an http(s) URL`);
    }
    const headers: Record<string, string> = {};
    for (const [name, source] of Object.entries(d.headers)) {
      headers[name] = await this.value(source, `${d.id} header ${name}`);
      if (/[\r\n]/.test(headers[name] as string)) {
        throw new DestinationError("BAD_HEADER", `${d.id} header ${name}: the value has a line break`);
      }
    }
    return {
      id: d.id,
      kind: d.kind,
      url,
      headers,
      ...(d.signingKey ? { signingKey: await this.secretValue(d.signingKey, `${d.id} signing key`) } : {}),
      ...(d.dashboardUrl ? { dashboardUrl: d.dashboardUrl } : {}),
    };
  }
}
