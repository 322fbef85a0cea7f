// The dashboard's HTTP routes: the page and its assets, JSON views under /api, server-sent events
// that push a view again whenever the watches change it, and the actions. Served two ways:
// - `ramp dashboard`, on loopback with the user's own credentials: only the dashboard's own address
//   may be named in Host (a web page that rebinds a DNS name to 127.0.0.1 reads nothing);
// - `ramp controller --dashboard`, with the controller's credentials: every request carries a bearer
//   token (header, or the cookie the login form sets), checked with a TokenReview, and every read and
//   write with a SubjectAccessReview for that identity (src/dashboard/access.ts).
// Either way an action needs a JSON body: a form on another site cannot post one without a CORS
// preflight, which is never granted (and the login cookie is SameSite=Strict).
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from "fastify";
import { type KubeClient, KubeError } from "../kube/client.ts";
import { errorLine } from "../kube/error-line.ts";
import { AccessError, type Caller, type TokenAccess, writesOf } from "./access.ts";
import { isAction, runAction } from "./actions.ts";
import { type Assets, INDEX_HTML } from "./assets.ts";
import type { ClusterWatches } from "./watches.ts";

export interface DashboardRoutesOptions {
  watches: ClusterWatches;
  assets: Assets;
  /** The client that reads and writes: the user's (local) or the controller's (in the cluster). */
  client: KubeClient;
  /** In the cluster: who the caller is and what RBAC lets them do. Absent: the local dashboard. */
  access?: TokenAccess;
  /** Locally: the Host values the dashboard answers to (filled once it listens). */
  hosts?: Set<string>;
  /** Streams open at once (default MAX_STREAMS); more are answered 503. */
  maxStreams?: number;
}

/** Each open stream is recomputed (and, in the cluster, its reviews asked) on every change: a
 * caller opening streams without end must not make every change cost without end. */
export const MAX_STREAMS = 64;

/** What a button's click answers: the CLI's line on success, else the status and the refusal's words. */
export interface ActionAnswer {
  ok: boolean;
  status: number;
  message: string;
}

/** Who the page is talking as: the local user's kubeconfig, or a token's identity in the cluster. */
export type WhoAmI = { mode: "local" } | { mode: "token"; username: string };

export const TOKEN_COOKIE = "ramp-dashboard-token";
const KEEP_ALIVE_MS = 15_000;
// A token is a few kilobytes at most (a JWT); more is not one.
const MAX_TOKEN = 16_384;

function tokenOf(request: FastifyRequest): string | undefined {
  const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
  if (bearer) return bearer;
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === TOKEN_COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

const failure = (err: unknown): ActionAnswer => {
  if (err instanceof AccessError)
    return { ok: false, status: err.status, message: `Error from server (Forbidden): ${err.message}` };
  // The apiserver's refusal is the answer (403 Forbidden included); an operation that does not apply
  // (promote an aborted rollout) is a conflict; no answer from the apiserver, a bad gateway.
  const status = err instanceof KubeError ? err.status : typeof (err as { code?: unknown }).code === "string" ? 502 : 409;
  return { ok: false, status: status >= 400 && status < 600 ? status : 500, message: errorLine(err) };
};

export const dashboardRoutes: FastifyPluginAsync<DashboardRoutesOptions> = async (app, opts) => {
  const { watches, access, hosts } = opts;
  const maxStreams = opts.maxStreams ?? MAX_STREAMS;
  let streams = 0;

  if (hosts) {
    app.addHook("onRequest", async (request, reply) => {
      if (!hosts.has(request.headers.host ?? "")) {
        return reply.code(421).type("text/plain").send("this dashboard answers only on its own address\n");
      }
    });
  }
  /** The caller in the cluster (undefined locally); answers 401 itself when there is none. */
  const callerOf = async (request: FastifyRequest, reply: FastifyReply): Promise<Caller | undefined | null> => {
    if (!access) return undefined;
    try {
      return await access.authenticate(tokenOf(request));
    } catch (err) {
      const answer = failure(err);
      await reply.code(answer.status).send(answer);
      return null;
    }
  };

  app.get("/", async (_request, reply) =>
    reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(INDEX_HTML),
  );
  app.get<{ Params: { file: string } }>("/assets/:file", async (request, reply) => {
    const asset = opts.assets.get(request.params.file);
    if (!asset) return reply.code(404).type("text/plain").send("not found\n");
    return reply.type(asset.type).send(asset.body);
  });

  app.get("/api/whoami", async (request, reply): Promise<WhoAmI | undefined> => {
    const caller = await callerOf(request, reply);
    if (caller === null) return;
    return caller ? { mode: "token", username: caller.username } : { mode: "local" };
  });
  app.post<{ Body: { token?: unknown } }>("/api/login", async (request, reply) => {
    const token = request.body?.token;
    if (!access || typeof token !== "string" || !token || token.length > MAX_TOKEN) {
      return reply.code(400).send({ ok: false, status: 400, message: "expected {token} (in-cluster dashboard only)" });
    }
    try {
      const caller = await access.authenticate(token);
      return reply
        .header("set-cookie", `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`)
        .send({ mode: "token", username: caller.username } satisfies WhoAmI);
    } catch (err) {
      const answer = failure(err);
      return reply.code(answer.status).send(answer);
    }
  });

  /** The list, with only the namespaces whose Rollouts the caller may list. */
  const listFor = async (caller: Caller | undefined) => {
    const view = watches.list();
    if (!caller || !access) return view;
    const namespaces = [...new Set(view.rollouts.map((r) => r.namespace))];
    const allowed = new Set<string>();
    await Promise.all(
      namespaces.map((namespace) =>
        access.authorize(caller, { verb: "list", namespace }).then(
          () => allowed.add(namespace),
          () => undefined,
        ),
      ),
    );
    return { ...view, rollouts: view.rollouts.filter((r) => allowed.has(r.namespace)) };
  };

  /** Server-sent events: the view now, then again each time it changes. */
  const stream = (request: FastifyRequest, reply: FastifyReply, view: () => Promise<unknown>) => {
    if (streams >= maxStreams) {
      const message = `${maxStreams} streams are open already; try again later`;
      return reply.code(503).header("retry-after", "10").send({ ok: false, status: 503, message });
    }
    streams++;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    let last = "";
    // One push at a time, in order: a view computed later is never overtaken by an earlier one.
    let pushing = Promise.resolve();
    const push = () => {
      pushing = pushing.then(async () => {
        const data = JSON.stringify((await view().catch(() => undefined)) ?? null);
        if (data === last || res.destroyed) return;
        last = data;
        res.write(`data: ${data}\n\n`);
      });
    };
    push();
    const unsubscribe = watches.subscribe(push);
    // A comment now and then keeps proxies and idle timeouts from closing a quiet stream.
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
    request.raw.on("close", () => {
      streams--;
      unsubscribe();
      clearInterval(keepAlive);
    });
  };

  app.get("/api/rollouts", async (request, reply) => {
    const caller = await callerOf(request, reply);
    if (caller !== null) return listFor(caller);
  });
  /** A stream outlives its first check: each push asks again (answers are cached), so a token that
   * expires or a RoleBinding removed ends what the page is shown (null) within the cache's time. */
  const still = async (request: FastifyRequest) => {
    if (access) await access.authenticate(tokenOf(request));
  };
  app.get("/api/stream", async (request, reply) => {
    const caller = await callerOf(request, reply);
    if (caller === null) return;
    return stream(request, reply, async () => {
      await still(request);
      return listFor(caller);
    });
  });

  type One = { Params: { namespace: string; name: string } };
  /** The caller, when they may read this Rollout; otherwise the refusal is answered. */
  const reader = async (request: FastifyRequest<One>, reply: FastifyReply) => {
    const caller = await callerOf(request, reply);
    if (caller === null) return null;
    try {
      if (caller && access) await access.authorize(caller, { verb: "get", ...request.params });
      return caller;
    } catch (err) {
      const answer = failure(err);
      await reply.code(answer.status).send(answer);
      return null;
    }
  };
  app.get<One>("/api/rollouts/:namespace/:name", async (request, reply) => {
    if ((await reader(request, reply)) === null) return;
    const detail = watches.detail(request.params.namespace, request.params.name);
    return detail ?? reply.code(404).send({ message: "no such rollout" });
  });
  app.get<One>("/api/stream/:namespace/:name", async (request, reply) => {
    const caller = await reader(request, reply);
    if (caller === null) return;
    const { namespace, name } = request.params;
    return stream(request, reply, async () => {
      await still(request);
      if (caller && access) await access.authorize(caller, { verb: "get", namespace, name });
      return { synced: watches.synced, issues: watches.issues, rollout: watches.detail(namespace, name) };
    });
  });

  app.post<{ Params: { namespace: string; name: string; action: string } }>(
    "/api/rollouts/:namespace/:name/:action",
    async (request, reply): Promise<ActionAnswer | undefined> => {
      const { namespace, name, action } = request.params;
      if (!isAction(action)) {
        reply.code(404);
        return { ok: false, status: 404, message: `no action "${action}"` };
      }
      if (!request.headers["content-type"]?.startsWith("application/json")) {
        reply.code(415);
        return { ok: false, status: 415, message: "actions take a JSON body" };
      }
      const caller = await callerOf(request, reply);
      if (caller === null) return;
      try {
        // In the cluster, the caller must be allowed exactly the writes the CLI would make.
        const guard =
          caller && access
            ? async (change: Parameters<typeof writesOf>[0]) => {
                for (const write of writesOf(change, namespace, name)) await access.authorize(caller, write);
              }
            : undefined;
        const message = await runAction({ client: opts.client, namespace }, name, action, guard);
        return { ok: true, status: 200, message };
      } catch (err) {
        const answer = failure(err);
        reply.code(answer.status);
        return answer;
      }
    },
  );
};

export interface RunningDashboard {
  url: string;
  close(): Promise<void>;
}

/** `ramp dashboard`: the routes on their own server, on loopback. */
export async function startDashboard(
  opts: Omit<DashboardRoutesOptions, "hosts" | "access"> & { host?: string; port: number },
): Promise<RunningDashboard> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const hosts = new Set<string>();
  await app.register(dashboardRoutes, { ...opts, hosts });
  await app.listen({ host: opts.host ?? "127.0.0.1", port: opts.port });
  const { port } = app.server.address() as AddressInfo;
  for (const host of ["127.0.0.1", "localhost", "[::1]"]) hosts.add(`${host}:${port}`);
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
