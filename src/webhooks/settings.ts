// The notifications ConfigMap as the controller sees it now (watched, so an edit takes effect
// without a restart and an idle controller asks the apiserver nothing), and destinations resolved
// from their Secrets at send time. Secret values are never logged, stored or put in errors: errors
// name the Secret and key.
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { Informer, withoutBookkeeping } from "../kube/informer.ts";
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
  /** How long a read of a Secret is reused. */
  secretTtlMs?: number;
  log?: Log;
}

export class NotificationSettings {
  private readonly client: KubeClient;
  private readonly opts: SettingsOptions;
  private readonly configMaps: Informer<ConfigMap>;
  /** The config parsed from the cached ConfigMap, and which state of it ("rv<resourceVersion>" or
   * "absent"): parsed, and logged, once per change. */
  private parsed: { state: string; config: NotificationConfig } | undefined;
  private readonly secrets = new Map<string, { at: number; data?: Record<string, string>; refusal?: SecretAccessError }>();
  private readonly warned = new Set<string>();
  /** Resolved once the ConfigMap has been read. */
  private readonly firstRead = Promise.withResolvers<void>();

  constructor(client: KubeClient, opts: SettingsOptions) {
    this.client = client;
    this.opts = opts;
    this.configMaps = new Informer<ConfigMap>(client, {
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${opts.name}`,
      // One object, watched: a periodic relist would be the only request of an idle controller.
      resyncMs: 0,
      transform: withoutBookkeeping,
      // Parsed as it changes, so a broken edit is logged at once, not at the next delivery.
      onChange: () => this.current(),
      onError: (err) =>
        this.opts.log?.(
          `notifications: watching ${this.where} failed (the config last read stays in use): ${(err as Error).message}`,
          "warn",
        ),
    });
  }

  get where(): string {
    return `ConfigMap ${this.opts.namespace}/${this.opts.name}`;
  }

  /** Reads the ConfigMap, then watches it until stop(); resolves once it has been read (a failed
   * read is retried, and said by `problem`). */
  async start(): Promise<void> {
    await this.configMaps.start();
    this.current();
    if (this.read) this.firstRead.resolve();
  }

  /** Whether the ConfigMap has been read (found or not): before, there is no config to match with. */
  get read(): boolean {
    return this.configMaps.hasSynced;
  }

  /** Resolves true once the ConfigMap has been read, false if `signal` aborts first. */
  untilRead(signal: AbortSignal): Promise<boolean> {
    if (this.read) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const aborted = () => resolve(false);
      signal.addEventListener("abort", aborted, { once: true });
      void this.firstRead.promise.then(() => {
        signal.removeEventListener("abort", aborted);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.configMaps.stop();
  }

  /** Why the config may be stale: the last list or watch of the ConfigMap failed. */
  get problem(): string | undefined {
    const failure = this.configMaps.problem;
    return failure && `notifications: ${this.where}: ${failure}`;
  }

  /** The config now; an absent ConfigMap (or one not read yet) is an empty one: notifications off
   * until it exists. */
  current(): NotificationConfig {
    if (!this.configMaps.hasSynced) return emptyConfig();
    const cm = this.configMaps.get(`${this.opts.namespace}/${this.opts.name}`);
    const state = cm ? `rv${cm.metadata.resourceVersion}` : "absent";
    if (this.parsed?.state === state) return this.parsed.config;
    if (cm) {
      const { config, problems } = parseConfig(cm.data ?? {});
      this.parsed = { state, config };
      this.opts.log?.(
        `notifications: ${this.where}: ${config.destinations.size} destinations` +
          problems.map((p) => `\n  ${p.code}: ${p.message}`).join(""),
      );
    } else {
      this.parsed = { state, config: emptyConfig() };
      this.opts.log?.(`notifications: ${this.where} not found; none are sent until it exists`);
    }
    return this.parsed.config;
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
    if (!entry || Date.now() - entry.at >= (this.opts.secretTtlMs ?? 5_000)) {
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
