// KubeClient's kubectl-style options against a local HTTP server we control: what reaches the wire
// (token, impersonation), and how long a silent server is waited for (requests, watches).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, KubeTimeoutError } from "../src/kube/client.ts";
import { cluster } from "./helpers.ts";

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
});
