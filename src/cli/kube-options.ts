// The options every command that talks to a cluster takes (kubectl's names and syntax), and the
// client they make. flags -> client options is pure, so the table of them is tested without a cluster.
import { STATUS_CODES } from "node:http";
import { type Command, Option } from "commander";
import { durationFlag } from "../api/duration.ts";
import { KubeClient, type KubeClientOptions } from "../kube/client.ts";

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  server?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  as?: string;
  asGroup?: string[];
  requestTimeout?: string;
  v?: number;
}

/** The request timeout of one-shot commands when --request-timeout is not given. */
export const DEFAULT_REQUEST_TIMEOUT = "30s";

// kubectl's --request-timeout: a bare number is seconds (0: no limit), else Go durations ("1m30s").
const TIMEOUT_SYNTAX = /^(?:\d+|(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/;

/** --request-timeout in milliseconds (0: no limit). The one place its syntax lives. */
export function requestTimeoutMs(value: string): number {
  if (!TIMEOUT_SYNTAX.test(value)) {
    throw new Error(`--request-timeout: expected 0 (no limit), whole seconds or a duration such as 30s or 1m, got "${value}"`);
  }
  return /^\d+$/.test(value) ? Number(value) * 1000 : durationFlag("--request-timeout", value);
}

const verbosity = (value: string) => {
  // kubectl's -v=6 reaches commander as "=6".
  const n = Number(value.replace(/^=/, ""));
  if (!Number.isInteger(n) || n < 0 || n > 10) throw new Error(`-v: expected a log level from 0 to 10, got "${value}"`);
  return n;
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** kubectl's request log line at -v 6 (klog's header, then method, URL, status and time). */
export function requestLogLine(method: string, code: number, url: URL, ms: number, now: Date, pid: number): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const stamp = `${two(now.getUTCMonth() + 1)}${two(now.getUTCDate())} ${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())}.${String(now.getUTCMilliseconds() * 1000).padStart(6, "0")}`;
  const status = code ? `${code} ${STATUS_CODES[code] ?? ""}`.trimEnd() : "(no answer)";
  return `I${stamp} ${pid} client.ts] ${method} ${url.href} ${status} in ${Math.round(ms)} milliseconds`;
}

/** What the flags ask of the client. `defaultTimeout` applies when --request-timeout is absent. */
export function clientOptions(
  flags: KubeFlags,
  defaultTimeout: string | undefined,
  log: (line: string) => void = (line) => console.error(line),
): Omit<KubeClientOptions, "fieldManager" | "qps" | "burst"> {
  if (flags.asGroup?.length && !flags.as) throw new Error("--as-group: requesting groups without impersonating a user (--as)");
  const timeout = flags.requestTimeout ?? defaultTimeout;
  return {
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...(flags.server ? { server: flags.server } : {}),
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
    ...(flags.as ? { impersonate: { user: flags.as, ...(flags.asGroup?.length ? { groups: flags.asGroup } : {}) } } : {}),
    ...(timeout === undefined ? {} : { requestTimeoutMs: requestTimeoutMs(timeout) }),
    ...((flags.v ?? 0) >= 6
      ? {
          onResponse: (verb: string, code: number, { url, ms }: { url: URL; ms: number }) =>
            log(requestLogLine(verb, code, url, ms, new Date(), process.pid)),
        }
      : {}),
  };
}

export function kubeOptions(
  command: Command,
  namespaceHelp = "namespace (default: the kubeconfig context's, else default)",
): Command {
  return command
    .option("--kubeconfig <path>", "kubeconfig file (default: KUBECONFIG or ~/.kube/config, else in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", namespaceHelp)
    .option("-s, --server <url>", "the apiserver's address (overrides the kubeconfig's)")
    .option("--token <token>", "bearer token to authenticate with (instead of the kubeconfig's credentials)")
    .option("--insecure-skip-tls-verify", "do not check the apiserver's certificate (insecure)")
    .option("--as <user>", "act as this user (impersonation)")
    .addOption(new Option("--as-group <group>", "act as this group (repeatable; with --as)").argParser(collect))
    .option(
      "--request-timeout <duration>",
      `give up on an API call unanswered this long: 0 (no limit), 30s, 1m (default: ${DEFAULT_REQUEST_TIMEOUT})`,
    )
    .addOption(new Option("-v, --v <level>", "log level; 6 logs each API request to stderr").argParser(verbosity));
}

export function kubeClient(flags: KubeFlags, opts: KubeClientOptions = {}, defaultTimeout?: string): KubeClient {
  const fromFlags = clientOptions(flags, defaultTimeout);
  const both = [fromFlags.onResponse, opts.onResponse].filter((f) => f !== undefined);
  return new KubeClient({
    ...fromFlags,
    ...opts,
    ...(both.length
      ? {
          onResponse: (...args: Parameters<NonNullable<KubeClientOptions["onResponse"]>>) => {
            for (const f of both) f(...args);
          },
        }
      : {}),
  });
}

/** --namespace, else the namespace of the kubeconfig's current context, else "default" (as kubectl). */
export function namespaceOf(flags: KubeFlags, client: KubeClient): string {
  return flags.namespace ?? client.namespace ?? "default";
}
