// A small typed Prometheus client over prometheus-query. That package returns loosely typed results
// and throws plain objects; here every answer becomes a typed result and every failure a
// PrometheusError with a stable code, and no credential reaches a message.
//
// Around the package, through its interceptor hooks:
// - a per-request deadline and the caller's AbortSignal: its `timeout` is axios's socket idle
//   timeout, not a deadline for the whole request, and it takes no signal;
// - the HTTP status: it drops the status when the body is not Prometheus's JSON (a proxy's HTML
//   502), which would make an HTTP error look like a bad response;
// - infinities: it reads values with parseFloat, which turns Prometheus's "+Inf" into NaN (no data),
//   while a latency quantile of +Inf is a broken limit.
//
// Every connection goes through the controller's OutboundDoor: the address is checked before the
// request, the socket opens to a checked address (the door's lookup), no proxy from the
// environment, no redirects followed.
import type { PrometheusDriver, QueryResult } from "prometheus-query";
import { type Code, CodedError } from "../../../api/codes.ts";
import { DESTINATION_NOT_ALLOWED, DestinationNotAllowed, type OutboundDoor } from "../../../net/outbound.ts";

type PrometheusQuery = typeof import("prometheus-query");

/** The package loads with the first query, not with the controller: axios under it probes fetch
 * support as it loads, which starts Node's undici (about 0.2 s of the controller's start-up). As a
 * CommonJS module in the bundle, its exports are the default export. */
async function driverClass(): Promise<typeof PrometheusDriver> {
  const loaded = (await import("prometheus-query")) as PrometheusQuery & { default?: PrometheusQuery };
  return (loaded.default ?? loaded).PrometheusDriver;
}

export type PrometheusErrorCode = Extract<
  Code,
  | "PROMETHEUS_UNREACHABLE"
  | "PROMETHEUS_TIMEOUT"
  | "PROMETHEUS_ABORTED"
  | "PROMETHEUS_BAD_QUERY"
  | "PROMETHEUS_HTTP_ERROR"
  | "PROMETHEUS_BAD_RESPONSE"
  | "PROMETHEUS_NON_NUMERIC"
  | typeof DESTINATION_NOT_ALLOWED
>;

export class PrometheusError extends CodedError<PrometheusErrorCode> {
  override name = "PrometheusError";
  /** The HTTP status when Prometheus (or a proxy) answered. */
  readonly status: number | undefined;
  constructor(code: PrometheusErrorCode, message: string, status?: number) {
    super(code, message);
    this.status = status;
  }
}

export type PrometheusAuth = { bearerToken: string } | { username: string; password: string };

export interface QueryOptions {
  /** Deadline of the whole request, also sent as Prometheus's evaluation timeout (default 10s). */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Wins over an Authorization header in `headers`. */
  auth?: PrometheusAuth;
  signal?: AbortSignal;
}

export type Labels = Record<string, string>;
export interface Point {
  time: Date;
  value: number;
}
export interface Sample extends Point {
  labels: Labels;
}
export interface Series {
  labels: Labels;
  points: Point[];
}

export type MatrixResult = { resultType: "matrix"; series: Series[] };
/** An instant query gives a scalar, a vector, or (for a range selector such as `x[5m]`) a matrix. */
export type InstantResult =
  | { resultType: "scalar"; time: Date; value: number }
  | { resultType: "vector"; samples: Sample[] }
  | MatrixResult;

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Shorter values are not credentials, and hiding them would garble messages. */
const MIN_SECRET_LENGTH = 4;

/** The address without user info, as it may appear in messages and metadata. */
export function displayAddress(address: string): string {
  try {
    const url = new URL(address);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return "(an invalid URL)";
  }
}

/** Prometheus writes infinities as "+Inf"/"-Inf"; parseFloat understands only "Infinity". */
const readableNumber = (v: unknown): unknown => (v === "+Inf" ? "Infinity" : v === "-Inf" ? "-Infinity" : v);

function readableInfinities(body: unknown): void {
  const data = (body as { data?: { resultType?: unknown; result?: unknown } } | undefined)?.data;
  if (!Array.isArray(data?.result)) return;
  const fixPair = (pair: unknown) => {
    if (Array.isArray(pair) && pair.length === 2) pair[1] = readableNumber(pair[1]);
  };
  for (const item of data.result as { value?: unknown; values?: unknown }[]) {
    fixPair(item?.value);
    if (Array.isArray(item?.values)) item.values.forEach(fixPair);
  }
}

/** A Prometheus sample value: a decimal, "NaN", "+Inf" or "-Inf". */
function sampleValue(v: unknown): number {
  const text = readableNumber(v);
  const n = typeof text === "string" ? Number(text) : Number.NaN;
  if (Number.isNaN(n) && text !== "NaN")
    throw new PrometheusError("PROMETHEUS_BAD_RESPONSE", `unreadable sample value ${JSON.stringify(v)}`);
  return n;
}

interface DriverMetric {
  name?: string;
  labels?: Labels;
}
interface DriverSample {
  time: Date;
  value: number;
}

const labelsOf = (metric: DriverMetric | null | undefined): Labels => ({
  ...(metric?.name ? { __name__: metric.name } : {}),
  ...metric?.labels,
});

function point(sample: DriverSample): Point {
  if (!(sample?.time instanceof Date) || typeof sample.value !== "number") {
    throw new PrometheusError("PROMETHEUS_BAD_RESPONSE", "a sample without time or value");
  }
  return { time: sample.time, value: sample.value };
}

function typed(result: QueryResult): InstantResult {
  const type = String(result?.resultType);
  const items: unknown[] = Array.isArray(result?.result) ? result.result : [];
  switch (type) {
    case "scalar":
      return { resultType: "scalar", time: new Date(Number(items[0]) * 1000), value: sampleValue(items[1]) };
    case "vector":
      return {
        resultType: "vector",
        samples: (items as { metric?: DriverMetric; value: DriverSample }[]).map((s) => ({
          labels: labelsOf(s.metric),
          ...point(s.value),
        })),
      };
    case "matrix":
      return {
        resultType: "matrix",
        series: (items as { metric?: DriverMetric; values: DriverSample[] }[]).map((s) => ({
          labels: labelsOf(s.metric),
          points: s.values.map(point),
        })),
      };
    case "string":
      throw new PrometheusError("PROMETHEUS_NON_NUMERIC", `the query gives a string (${JSON.stringify(items[1])}), not a number`);
    default:
      throw new PrometheusError("PROMETHEUS_BAD_RESPONSE", `unknown result type ${JSON.stringify(type)}`);
  }
}

/** What prometheus-query throws: plain objects, or an Error when it cannot read a result. */
interface DriverFailure {
  errorType?: string;
  error?: string;
  code?: string;
  httpStatus?: number;
  prometheus?: { errorType?: string };
  original?: DriverFailure;
}

interface RequestState {
  address: string;
  timeoutMs: number;
  deadline: AbortSignal;
  caller: AbortSignal | undefined;
  status: number | undefined;
}

function classify(err: unknown, req: RequestState): PrometheusError {
  if (err instanceof PrometheusError) return err;
  if (err instanceof DestinationNotAllowed) return new PrometheusError(DESTINATION_NOT_ALLOWED, err.message);
  const at = `Prometheus at ${req.address}`;
  if (req.caller?.aborted) return new PrometheusError("PROMETHEUS_ABORTED", `the query to ${at} was cancelled`);
  const thrown = (err ?? {}) as DriverFailure;
  // On a 200 answer that is not Prometheus's JSON, the driver's own error handler catches the
  // client_error it just threw and wraps it as a network error (`original`): unwrap it.
  const failure = thrown.errorType === "network_error" && thrown.original?.errorType ? thrown.original : thrown;
  if (failure.code === DESTINATION_NOT_ALLOWED) return new PrometheusError(DESTINATION_NOT_ALLOWED, failure.error ?? at);
  if (req.deadline.aborted || failure.errorType === "timeout_error") {
    return new PrometheusError("PROMETHEUS_TIMEOUT", `${at} did not answer within ${req.timeoutMs / 1000}s`);
  }
  if (err instanceof Error)
    return new PrometheusError("PROMETHEUS_BAD_RESPONSE", `cannot read the answer of ${at}: ${err.message}`);
  switch (failure.errorType) {
    case "network_error":
    case "ssl_error": {
      const message = failure.error ?? "";
      const code = failure.code && !message.includes(failure.code) ? failure.code : "";
      return new PrometheusError(
        "PROMETHEUS_UNREACHABLE",
        `cannot reach ${at}: ${[code, message].join(" ").trim() || "no connection"}`,
      );
    }
    case "http_error": {
      const status = failure.httpStatus;
      const detail = `${failure.prometheus?.errorType ? `${failure.prometheus.errorType}: ` : ""}${failure.error ?? ""}`;
      if (status === 400 || status === 422) {
        return new PrometheusError("PROMETHEUS_BAD_QUERY", `${at} refused the query (HTTP ${status}): ${detail}`, status);
      }
      if (failure.prometheus?.errorType === "timeout") {
        return new PrometheusError("PROMETHEUS_TIMEOUT", `${at} gave up on the query (HTTP ${status}): ${detail}`, status);
      }
      return new PrometheusError("PROMETHEUS_HTTP_ERROR", `${at} answered HTTP ${status}: ${detail}`, status);
    }
    default:
      if (req.status !== undefined && req.status >= 300) {
        return new PrometheusError(
          "PROMETHEUS_HTTP_ERROR",
          `${at} answered HTTP ${req.status} ${req.status < 400 ? "(redirects are not followed)" : "without a Prometheus error"}`,
          req.status,
        );
      }
      return new PrometheusError("PROMETHEUS_BAD_RESPONSE", `${at} did not answer with a Prometheus API response`, req.status);
  }
}

/** Every credential of a request, in the forms a server or proxy could echo back. */
function secretsOf(address: string, opts: QueryOptions): string[] {
  const secrets = Object.values(opts.headers ?? {});
  if (opts.auth && "bearerToken" in opts.auth) secrets.push(opts.auth.bearerToken);
  if (opts.auth && "password" in opts.auth) {
    secrets.push(opts.auth.password, Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString("base64"));
  }
  try {
    secrets.push(decodeURIComponent(new URL(address).password));
  } catch {}
  return secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

const redact = (text: string, secrets: string[]) => secrets.reduce((t, s) => t.replaceAll(s, "***"), text);

export class PrometheusClient {
  readonly address: string;
  /** The address as messages and metadata show it: without user info. */
  readonly display: string;

  private readonly door: OutboundDoor;

  constructor(address: string, door: OutboundDoor) {
    this.address = address;
    this.display = displayAddress(address);
    this.door = door;
  }

  /** Evaluates `query` at `time`. */
  instant(query: string, time: Date, opts: QueryOptions = {}): Promise<InstantResult> {
    return this.call(opts, (driver, timeout) => driver.instantQuery(query, time, timeout));
  }

  /** Evaluates `query` from `start` to `end` every `stepSeconds`. */
  async range(query: string, start: Date, end: Date, stepSeconds: number, opts: QueryOptions = {}): Promise<MatrixResult> {
    const result = await this.call(opts, (driver, timeout) => driver.rangeQuery(query, start, end, stepSeconds, timeout));
    if (result.resultType !== "matrix") {
      throw new PrometheusError("PROMETHEUS_BAD_RESPONSE", `a range query gave a ${result.resultType}, not a matrix`);
    }
    return result;
  }

  private async call(opts: QueryOptions, run: (driver: PrometheusDriver, timeout: string) => Promise<QueryResult>) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const req: RequestState = { address: this.display, timeoutMs, deadline, caller: opts.signal, status: undefined };
    const basic = opts.auth && "password" in opts.auth ? opts.auth : undefined;
    const headers = { ...opts.headers };
    if (opts.auth && "bearerToken" in opts.auth) {
      for (const key of Object.keys(headers)) if (key.toLowerCase() === "authorization") delete headers[key];
      headers.Authorization = `Bearer ${opts.auth.bearerToken}`;
    }
    try {
      const { lookup } = this.door.open(this.address);
      const Driver = await driverClass();
      const driver = new Driver({
        endpoint: this.address,
        headers,
        ...(basic ? { auth: { username: basic.username, password: basic.password } } : {}),
        timeout: timeoutMs,
        requestInterceptor: {
          onFulfilled: (config) => {
            Object.assign(config, { signal, lookup, adapter: "http", proxy: false, maxRedirects: 0 });
            return config;
          },
        },
        responseInterceptor: {
          onFulfilled: (response) => {
            req.status = response.status;
            readableInfinities(response.data);
            return response;
          },
          onRejected: (err) => {
            const response = (err as { response?: { status?: number; headers?: Record<string, unknown> } })?.response;
            req.status = response?.status;
            const location = response?.headers?.location;
            // Not followed; one pointing outside the policy is said to be so.
            if (req.status && req.status < 400 && typeof location === "string" && URL.canParse(location, this.address)) {
              this.door.open(new URL(location, this.address).toString());
            }
            throw err;
          },
        },
      });
      // Prometheus reads a bare number as seconds.
      return typed(await run(driver, String(timeoutMs / 1000)));
    } catch (err) {
      const failure = classify(err, req);
      throw new PrometheusError(failure.code, redact(failure.message, secretsOf(this.address, opts)), failure.status);
    }
  }
}
