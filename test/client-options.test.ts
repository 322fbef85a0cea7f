// KubeClient's kubectl-style options against a local HTTP server we control: what reaches the wire
// (token, impersonation), and how long a silent server is waited for (requests, watches); its
// connection pool and credentials against the dev cluster's apiserver and credential files.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, KubeTimeoutError } from "../src/kube/client.ts";
import { cluster } from "./helpers.ts";

const scratch = () => mkdtempSync(join(tmpdir(), "ramp-client-"));

/** A kubeconfig of one cluster and one user, written to a fresh folder. */
function kubeconfigFile(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const path = join(scratch(), "config");
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster }],
      users: [{ name: "u", user }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  return path;
}

describe("KubeClient options on the wire", () => {
  let handle: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  const server = createServer((req, res) => handle(req, res));
  let url: string;
  const client = (requestTimeoutMs?: number) =>
    new KubeClient({
      kubeconfig: cluster().kubeconfig,
      server: url,
      insecureSkipTlsVerify: true,
      token: "t0ken",
      impersonate: { user: "jane", groups: ["devs", "ops"] },
      ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
    });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("--token replaces the kubeconfig's credentials; --as/--as-group send impersonation headers", async () => {
    let seen: IncomingMessage | undefined;
    handle = (req, res) => {
      seen = req;
      res.setHeader("content-type", "application/json");
      res.end("{}");
    };
    await client().request("GET", "/version");
    expect(seen?.headers.authorization).toBe("Bearer t0ken");
    expect(seen?.headers["impersonate-user"]).toBe("jane");
    const groups = seen?.rawHeaders.filter((_, i, all) => all[i - 1]?.toLowerCase() === "impersonate-group");
    expect(groups).toEqual(["devs", "ops"]);
  });

  it("a request with no answer fails within the timeout as a KubeTimeoutError", async () => {
    handle = () => undefined;
    const started = Date.now();
    const err = await client(500)
      .request("GET", "/api/v1/pods")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeTimeoutError);
    expect((err as Error).message).toBe(`GET ${url}/api/v1/pods: no answer within 0.5s`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a watch asks the server to end it within half the timeout, and a silent one fails after the timeout", async () => {
    let asked: string | undefined;
    handle = (req, res) => {
      asked = new URL(req.url ?? "", url).searchParams.get("timeoutSeconds") ?? undefined;
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`${JSON.stringify({ type: "ADDED", object: { kind: "Pod", metadata: { name: "a" } } })}\n`);
      // ...then nothing: the connection stays open and silent.
    };
    const events: string[] = [];
    const started = Date.now();
    const err = await client(3000)
      .watch("/api/v1/pods?watch=1&timeoutSeconds=300", (e) => events.push(e.type), new AbortController().signal)
      .catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(asked).toBe("1");
    expect(events).toEqual(["ADDED"]);
    expect(err).toBeInstanceOf(KubeTimeoutError);
    // The silence, not the watch's whole life, is what is bounded: it fails after about 3 s.
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(20_000);
  });

  it("a watch that keeps talking outlives the timeout", async () => {
    handle = (_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const tick = setInterval(
        () => res.write(`${JSON.stringify({ type: "BOOKMARK", object: { kind: "Pod", metadata: {} } })}\n`),
        200,
      );
      setTimeout(() => {
        clearInterval(tick);
        res.end();
      }, 2500);
    };
    const events: string[] = [];
    await client(1000).watch("/api/v1/pods?watch=1", (e) => events.push(e.type), new AbortController().signal);
    expect(events.length).toBeGreaterThanOrEqual(5);
  });

  it("a token file is read again when it changes (a rotated ServiceAccount token)", async () => {
    const tokens: (string | undefined)[] = [];
    handle = (req, res) => {
      tokens.push(req.headers.authorization);
      res.end("{}");
    };
    const tokenFile = join(scratch(), "token");
    writeFileSync(tokenFile, "one\n");
    const c = new KubeClient({ kubeconfig: kubeconfigFile({ server: url }, { tokenFile }) });
    await c.request("GET", "/version");
    await c.request("GET", "/version");
    writeFileSync(tokenFile, "two-rotated\n");
    await c.request("GET", "/version");
    expect(tokens).toEqual(["Bearer one", "Bearer one", "Bearer two-rotated"]);
  });

  it("an exec plugin runs once for many requests, and again after a 401", async () => {
    const dir = scratch();
    const runs = join(dir, "runs");
    writeFileSync(runs, "");
    const plugin = join(dir, "plugin.sh");
    writeFileSync(
      plugin,
      `#!/bin/sh\necho run >> ${runs}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const seen: (string | undefined)[] = [];
    handle = (req, res) => {
      seen.push(req.headers.authorization);
      res.statusCode = req.url === "/refused" ? 401 : 200;
      res.end(JSON.stringify(res.statusCode === 401 ? { reason: "Unauthorized", message: "Unauthorized" } : {}));
    };
    const c = new KubeClient({
      kubeconfig: kubeconfigFile({ server: url }, { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } }),
    });
    for (let i = 0; i < 5; i++) await c.request("GET", "/version");
    const runsBefore401 = readFileSync(runs, "utf8").split("\n").filter(Boolean).length;
    await expect(c.request("GET", "/refused")).rejects.toMatchObject({ status: 401 });
    await c.request("GET", "/version");
    expect([runsBefore401, readFileSync(runs, "utf8").split("\n").filter(Boolean).length]).toEqual([1, 2]);
    expect(new Set(seen)).toEqual(new Set(["Bearer from-plugin"]));
  });
});

describe("KubeClient against the dev cluster's apiserver", () => {
  it("sequential requests share one kept-alive TLS connection (counted by a TCP proxy in front of the apiserver)", async () => {
    const apiserver = new URL(new KubeClient({ kubeconfig: cluster().kubeconfig }).server);
    const accepted: Socket[] = [];
    const proxy = createTcpServer((socket) => {
      accepted.push(socket);
      const upstream = connect(Number(apiserver.port), apiserver.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const through = new KubeClient({
        kubeconfig: cluster().kubeconfig,
        server: `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      });
      const N = 50;
      for (let i = 0; i < N; i++) await through.get("v1", "Namespace", "default");
      expect(accepted.length).toBeLessThanOrEqual(2);
    } finally {
      for (const socket of accepted) socket.destroy();
      proxy.close();
    }
  });

  it("a kubeconfig with its certificates inline (…-data) reaches the cluster as one with files", async () => {
    const doc = load(readFileSync(cluster().kubeconfig, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority": string } }[];
      users: { user: { "client-certificate": string; "client-key": string } }[];
    };
    const [{ cluster: c }] = doc.clusters as [(typeof doc.clusters)[0]];
    const [{ user: u }] = doc.users as [(typeof doc.users)[0]];
    const b64 = (path: string) => readFileSync(path).toString("base64");
    const inline = new KubeClient({
      kubeconfig: kubeconfigFile(
        { server: c.server, "certificate-authority-data": b64(c["certificate-authority"]) },
        { "client-certificate-data": b64(u["client-certificate"]), "client-key-data": b64(u["client-key"]) },
      ),
    });
    await expect(inline.get("v1", "Namespace", "default")).resolves.toMatchObject({ metadata: { name: "default" } });
  });
});
