// How a failed call reads (a command's, the dashboard's): one line, in kubectl's words where kubectl
// has them, never a stack. Pure: an error in, a line out.
import { KubeConfigError, KubeError, KubeTimeoutError } from "./client.ts";

// Node's codes for a connection that failed or a certificate it would not trust.
const TRANSPORT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
]);

interface NodeError {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

export function errorLine(err: unknown): string {
  if (err instanceof KubeError) return `Error from server (${err.reason}): ${err.message}`;
  if (err instanceof KubeConfigError) return `error: ${err.message}`;
  if (err instanceof KubeTimeoutError) return `Unable to connect to the server: ${err.message}`;
  const { code, address, port, hostname } = (err ?? {}) as NodeError;
  const where = typeof address === "string" ? `${address}${port ? `:${port}` : ""}` : undefined;
  if (code === "ECONNREFUSED" && where)
    return `The connection to the server ${where} was refused - did you specify the right host or port?`;
  if (code === "ENOTFOUND" && typeof hostname === "string")
    return `Unable to connect to the server: dial tcp: lookup ${hostname}: no such host`;
  if (typeof code === "string" && TRANSPORT_CODES.has(code)) return `Unable to connect to the server: ${(err as Error).message}`;
  return `ramp: ${err instanceof Error ? err.message : String(err)}`;
}
