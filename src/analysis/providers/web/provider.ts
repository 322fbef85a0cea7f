// The `web` provider (Argo Rollouts' web metric): one HTTP request through the controller's
// outbound door, its JSON answer read by a JSONPath (json-path.ts) into a number or a list
// (result.ts); the metric's conditions judge it. Headers come from values ({{args.NAME}}) or from
// Secrets opted in to analysis; the request and the answer are bounded (timeout, size).
import type { Metric } from "../../../api/analysis.ts";
import { DestinationNotAllowed, ResponseTooLarge } from "../../../net/outbound.ts";
import { redacted } from "../../args.ts";
import type { MeasureContext, MetricProvider, ProviderOutcome } from "../../types.ts";
import { failure, MeasureError, readSecret, seconds, substituted } from "../prometheus/measure.ts";
import { JsonPathError, parseJsonPath } from "./json-path.ts";
import { parseBody, resultOf, WebResultError } from "./result.ts";

type WebSpec = NonNullable<Metric["provider"]["web"]>;

export const WEB_DEFAULT_TIMEOUT_MS = 10_000;
/** Longest answer read: enough for any status document, small enough for the controller's memory. */
export const WEB_MAX_ANSWER_BYTES = 1_048_576;

/** The URL as metadata and messages show it: origin and path, never user info or the query (tokens). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(an invalid URL)";
  }
}

/** Shorter Secret values are not credentials, and masking them would garble messages. */
const MIN_SECRET_LENGTH = 4;

/** What an HTTP header value may not hold (RFC 9110's field-value): CR or LF would end the header
 * and start another, or the request, with a tenant's text. */
const NOT_IN_HEADER = /[^\t\x20-\x7e\x80-\xff]/;

/** The request's headers; Secret values go into `secrets` too, to be masked in what is reported
 * (an endpoint that echoes its request must not put a token in the run's status). */
async function headersOf(spec: WebSpec, ctx: MeasureContext, secrets: string[]): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  for (const h of spec.headers ?? []) {
    if (h.valueFrom) {
      const value = await readSecret(h.valueFrom.secretKeyRef, ctx, `headers ${h.key}`);
      if (value.trim().length >= MIN_SECRET_LENGTH) secrets.push(value);
      headers[h.key] = value;
    } else headers[h.key] = substituted(h.value ?? "", ctx, false, `headers ${h.key}`);
    // The value itself is never shown: it may come from a Secret or a secret argument.
    if (NOT_IN_HEADER.test(headers[h.key] ?? ""))
      throw new MeasureError(
        "WEB_BAD_HEADER",
        `header ${h.key}: its value holds a control character (CR, LF...); nothing was sent`,
      );
  }
  if (spec.body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/json";
  }
  return headers;
}

/** Every failure of the request as a coded MeasureError; secrets never reach a message (the
 * controller also redacts secret arguments). */
function classify(err: unknown, shown: string, timeoutMs: number, ctx: MeasureContext): unknown {
  if (err instanceof MeasureError || err instanceof WebResultError) return err;
  if (err instanceof DestinationNotAllowed) return new MeasureError("DESTINATION_NOT_ALLOWED", err.message);
  if (err instanceof ResponseTooLarge) return new MeasureError("WEB_RESPONSE_TOO_LARGE", `${shown}: ${err.message}`);
  if (ctx.signal?.aborted) return new MeasureError("WEB_ABORTED", `the request to ${shown} was cancelled`);
  const e = err as Error & { code?: string };
  if (e?.name === "TimeoutError") return new MeasureError("WEB_TIMEOUT", `${shown} did not answer within ${timeoutMs / 1000}s`);
  return new MeasureError("WEB_UNREACHABLE", `cannot reach ${shown}: ${[e?.code, e?.message].filter(Boolean).join(" ")}`);
}

export const webProvider: MetricProvider = {
  name: "web",
  async measure(metric: Metric, ctx: MeasureContext): Promise<ProviderOutcome> {
    const secrets: string[] = [];
    return redacted(await measureWeb(metric, ctx, secrets), secrets);
  },
};

async function measureWeb(metric: Metric, ctx: MeasureContext, secrets: string[]): Promise<ProviderOutcome> {
  const metadata: Record<string, string> = {};
  const spec = metric.provider.web;
  try {
    if (!spec) throw new MeasureError("PROVIDER_MISMATCH", `metric ${metric.name} has no web provider`);
    const url = substituted(spec.url, ctx, false, "url");
    const shown = shownUrl(url);
    metadata.url = shown;
    const path = spec.jsonPath ?? "$";
    metadata.jsonPath = path;
    const steps = (() => {
      try {
        return parseJsonPath(path);
      } catch (err) {
        if (err instanceof JsonPathError) throw new MeasureError("WEB_BAD_JSON_PATH", err.message);
        throw err;
      }
    })();
    const timeoutMs = spec.timeout === undefined ? WEB_DEFAULT_TIMEOUT_MS : seconds(spec.timeout) * 1000;
    const headers = await headersOf(spec, ctx, secrets);
    const body = spec.body === undefined ? undefined : substituted(spec.body, ctx, false, "body");
    const answer = await ctx.outbound
      .fetchText(url, {
        method: spec.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs,
        maxBytes: WEB_MAX_ANSWER_BYTES,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      })
      .catch((err: unknown) => {
        throw classify(err, shown, timeoutMs, ctx);
      });
    metadata.status = String(answer.status);
    if (answer.status < 200 || answer.status >= 300) {
      const why = answer.status >= 300 && answer.status < 400 ? " (redirects are not followed)" : "";
      throw new MeasureError("WEB_HTTP_ERROR", `${shown} answered HTTP ${answer.status} ${answer.statusText}${why}`.trim());
    }
    return { ok: true, value: resultOf(parseBody(answer.body), steps, path), metadata };
  } catch (err) {
    if (err instanceof WebResultError) return { ok: false, code: err.code, message: err.message, metadata };
    return failure(err, metadata);
  }
}
