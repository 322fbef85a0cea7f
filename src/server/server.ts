// The controller's HTTP server: liveness (/healthz), readiness (/readyz) and Prometheus metrics
// (/metrics). Each concern is an encapsulated fastify plugin; every error answers JSON with a
// stable code from the catalogue below, so probes and scripts can match on it.

import { STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from "fastify";
import type { ControllerMetrics } from "./metrics.ts";

/** A readiness answer: plain, or with the reason the controller is not ready yet. */
export type Readiness = boolean | { ready: boolean; reason?: string };

export interface ServerOptions {
  /** Address to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** Port to bind; 0 picks any free one. */
  port: number;
  metrics: ControllerMetrics;
  ready: () => Readiness;
  /** Liveness; always healthy when absent. */
  healthy?: () => boolean;
  /** fastify's request log. */
  logger?: boolean;
  /** More routes on the same port (the dashboard, with --dashboard), in their own plugin. */
  routes?: FastifyPluginAsync;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ERROR_STATUS = {
  RAMP_BAD_REQUEST: 400,
  RAMP_NOT_FOUND: 404,
  RAMP_UNHEALTHY: 500,
  RAMP_METRICS_FAILED: 500,
  RAMP_INTERNAL: 500,
} as const;

export type ServerErrorCode = keyof typeof ERROR_STATUS;

/** An error the server answers with: its stable code decides the HTTP status. */
export class ServerError extends Error {
  readonly code: ServerErrorCode;
  readonly statusCode: number;

  constructor(code: ServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ServerError";
    this.code = code;
    this.statusCode = ERROR_STATUS[code];
  }
}

/** The JSON body of an error answer, shaped like fastify's own. */
export interface ErrorBody {
  statusCode: number;
  code: ServerErrorCode;
  error: string;
  message: string;
}

function sendError(reply: FastifyReply, err: ServerError): FastifyReply {
  const body: ErrorBody = {
    statusCode: err.statusCode,
    code: err.code,
    error: STATUS_CODES[err.statusCode] ?? "Error",
    message: err.message,
  };
  return reply.code(err.statusCode).type("application/json; charset=utf-8").send(body);
}

/** Any thrown value as a catalogue error: fastify's client errors (a bad URL...) keep their message. */
function asServerError(err: unknown): ServerError {
  if (err instanceof ServerError) return err;
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new ServerError("RAMP_BAD_REQUEST", err instanceof Error ? err.message : String(err), { cause: err });
  }
  return new ServerError("RAMP_INTERNAL", "internal server error", { cause: err });
}

const probeRoutes: FastifyPluginAsync<Pick<ServerOptions, "ready" | "healthy">> = async (app, opts) => {
  app.get("/healthz", async (_request, reply) => {
    if (opts.healthy && !opts.healthy()) throw new ServerError("RAMP_UNHEALTHY", "the controller reports itself unhealthy");
    return reply.type("text/plain; charset=utf-8").send("ok");
  });
  app.get("/readyz", async (_request, reply) => {
    const answer = opts.ready();
    const readiness = typeof answer === "boolean" ? { ready: answer } : answer;
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
};

const metricsRoutes: FastifyPluginAsync<Pick<ServerOptions, "metrics">> = async (app, { metrics }) => {
  app.get("/metrics", async (_request, reply) => {
    let text: string;
    try {
      text = await metrics.metricsText();
    } catch (err) {
      throw new ServerError("RAMP_METRICS_FAILED", `collecting the metrics failed: ${(err as Error).message}`, { cause: err });
    }
    return reply.type(metrics.contentType).send(text);
  });
};

/** The server's routes and handlers, not yet listening (tests call `inject` on it). */
export function buildServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? false,
    // Errors raised before routing (a malformed URL) skip the error handler: answer them the same way.
    frameworkErrors: (err, _request, reply) => sendError(reply, asServerError(err)),
    // The dashboard's event streams never end by themselves: closing the server ends them.
    ...(opts.routes ? { forceCloseConnections: true } : {}),
  });
  app.setErrorHandler((err, request, reply) => {
    const known = asServerError(err);
    if (known.statusCode >= 500) request.log.error({ err }, known.message);
    return sendError(reply, known);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new ServerError("RAMP_NOT_FOUND", `no route for ${request.method} ${request.url}`)),
  );
  app.register(probeRoutes, { ready: opts.ready, ...(opts.healthy ? { healthy: opts.healthy } : {}) });
  app.register(metricsRoutes, { metrics: opts.metrics });
  if (opts.routes) app.register(opts.routes);
  return app;
}

/** Builds the server and listens; `url` and `port` are the bound ones (useful with port 0). */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const app = buildServer(opts);
  await app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port });
  const { address, family, port } = app.server.address() as AddressInfo;
  return {
    url: `http://${family === "IPv6" ? `[${address}]` : address}:${port}`,
    port,
    close: () => app.close(),
  };
}
