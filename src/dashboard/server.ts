// `ramp dashboard`'s HTTP server, on loopback: the page and its assets, JSON views under /api,
// server-sent events that push a view again whenever the watches change it, and the actions.
// Only the dashboard's own address may be named in Host (a web page that rebinds a DNS name to
// 127.0.0.1 reads nothing) and actions need a JSON body (a form on another site cannot post one
// without a CORS preflight, which is never granted).
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { errorLine } from "../cli/errors.ts";
import { type KubeClient, KubeError } from "../kube/client.ts";
import { isAction, runAction } from "./actions.ts";
import { type Assets, INDEX_HTML } from "./assets.ts";
import type { ClusterWatches } from "./watches.ts";

export interface DashboardOptions {
  host?: string;
  port: number;
  watches: ClusterWatches;
  assets: Assets;
  /** The client actions write with, as the user. */
  client: KubeClient;
}

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

/** What a button's click answers: the CLI's line on success, else the apiserver's status and words. */
export interface ActionAnswer {
  ok: boolean;
  status: number;
  message: string;
}

const KEEP_ALIVE_MS = 15_000;

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const hosts = new Set<string>();

  app.addHook("onRequest", async (request, reply) => {
    if (!hosts.has(request.headers.host ?? "")) {
      return reply.code(421).type("text/plain").send("this dashboard answers only on its own address\n");
    }
  });

  app.get("/", async (_request, reply) =>
    reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(INDEX_HTML),
  );
  app.get<{ Params: { file: string } }>("/assets/:file", async (request, reply) => {
    const asset = opts.assets.get(request.params.file);
    if (!asset) return reply.code(404).type("text/plain").send("not found\n");
    return reply.type(asset.type).send(asset.body);
  });

  app.get("/api/rollouts", async () => opts.watches.list());
  app.get<{ Params: { namespace: string; name: string } }>("/api/rollouts/:namespace/:name", async (request, reply) => {
    const detail = opts.watches.detail(request.params.namespace, request.params.name);
    return detail ?? reply.code(404).send({ message: "no such rollout" });
  });

  /** Server-sent events: the view now, then again each time it changes. */
  const stream = (request: FastifyRequest, reply: FastifyReply, view: () => unknown) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    let last = "";
    const push = () => {
      const data = JSON.stringify(view() ?? null);
      if (data === last) return;
      last = data;
      res.write(`data: ${data}\n\n`);
    };
    push();
    const unsubscribe = opts.watches.subscribe(push);
    // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
    request.raw.on("close", () => {
      unsubscribe();
      clearInterval(keepAlive);
    });
  };
  app.get("/api/stream", (request, reply) => stream(request, reply, () => opts.watches.list()));
  app.get<{ Params: { namespace: string; name: string } }>("/api/stream/:namespace/:name", (request, reply) =>
    stream(request, reply, () => ({
      synced: opts.watches.synced,
      issues: opts.watches.issues,
      rollout: opts.watches.detail(request.params.namespace, request.params.name),
    })),
  );

  app.post<{ Params: { namespace: string; name: string; action: string } }>(
    "/api/rollouts/:namespace/:name/:action",
    async (request, reply): Promise<ActionAnswer> => {
      const { namespace, name, action } = request.params;
      if (!isAction(action)) {
        reply.code(404);
        return { ok: false, status: 404, message: `no action "${action}"` };
      }
      if (!request.headers["content-type"]?.startsWith("application/json")) {
        reply.code(415);
        return { ok: false, status: 415, message: "actions take a JSON body" };
      }
      try {
        const message = await runAction({ client: opts.client, namespace }, name, action);
        return { ok: true, status: 200, message };
      } catch (err) {
        // The apiserver's refusal is the answer (403 Forbidden included); an operation that does not
        // apply (promote an aborted rollout) is a conflict; no answer from the apiserver, a bad gateway.
        const status = err instanceof KubeError ? err.status : typeof (err as { code?: unknown }).code === "string" ? 502 : 409;
        reply.code(status >= 400 && status < 600 ? status : 500);
        return { ok: false, status, message: errorLine(err) };
      }
    },
  );

  await app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port });
  const { port } = app.server.address() as AddressInfo;
  for (const host of ["127.0.0.1", "localhost", "[::1]"]) hosts.add(`${host}:${port}`);
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
