import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "./client.ts";

// A fake apiserver on 127.0.0.1 that throttles the first call of each path with Retry-After.
describe("KubeClient.request on 429 Retry-After", () => {
  const calls = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const seen = calls.get(req.url ?? "") ?? [];
    seen.push(Date.now());
    calls.set(req.url ?? "", seen);
    if (seen.length === 1) {
      res.writeHead(429, { "retry-after": req.url === "/slow" ? "30" : "1", "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", reason: "TooManyRequests", message: "slow down", code: 429 }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  });
  let client: KubeClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-retry-")), "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster: { server: url, "insecure-skip-tls-verify": true } }],
        users: [{ name: "fake", user: {} }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
        "current-context": "fake",
      }),
    );
    client = new KubeClient({ kubeconfig, requestTimeoutMs: 10_000 });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("waits the Retry-After seconds, then gives the 200", async () => {
    await expect(client.request("GET", "/fast")).resolves.toEqual({ ok: true });
    const [first = 0, second = 0] = calls.get("/fast") ?? [];
    expect(second - first).toBeGreaterThanOrEqual(950);
  });

  it("gives the 429 when the Retry-After outlasts the request timeout", async () => {
    await expect(client.request("GET", "/slow")).rejects.toMatchObject({ status: 429, reason: "TooManyRequests" });
    expect(calls.get("/slow")).toHaveLength(1);
  });
});

// A DELETE carries a body (propagationPolicy); unframed, the server would read it as the start of
// the next request on the kept-alive socket and answer that one 400.
describe("KubeClient.request with a body on a kept-alive socket", () => {
  const seen: { method: string; url: string; length: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", length: req.headers["content-length"], body });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  let client: KubeClient;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-frame-")), "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster: { server: url } }],
        users: [{ name: "fake", user: {} }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
        "current-context": "fake",
      }),
    );
    client = new KubeClient({ kubeconfig, requestTimeoutMs: 10_000 });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("frames a DELETE's body, so the next request on the socket is read as itself", async () => {
    await client.request("DELETE", "/api/v1/namespaces/a/configmaps/x", { propagationPolicy: "Background" });
    await client.request("GET", "/api/v1/namespaces/a/configmaps");
    expect(seen).toEqual([
      { method: "DELETE", url: "/api/v1/namespaces/a/configmaps/x", length: "34", body: '{"propagationPolicy":"Background"}' },
      { method: "GET", url: "/api/v1/namespaces/a/configmaps", length: undefined, body: "" },
    ]);
  });
});
