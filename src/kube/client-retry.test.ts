import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClient } from "./client.ts";
import { FakeApiserver } from "./fake-apiserver.ts";

// A fake apiserver on 127.0.0.1 that throttles the first call of each path with Retry-After.
describe("KubeClient.request on 429 Retry-After", () => {
  const api = new FakeApiserver([]);
  const calls = (path: string) => api.requests.filter((r) => r.path === path).map((r) => r.at);
  let client: KubeClient;

  beforeAll(async () => {
    await api.start();
    api.answerWith(({ path }) =>
      calls(path).length === 1
        ? { code: 429, message: "slow down", headers: { "retry-after": path === "/slow" ? "30" : "1" } }
        : { code: 200, body: { ok: true } },
    );
    client = api.client();
  });
  afterAll(() => api.stop());

  it("waits the Retry-After seconds, then gives the 200", async () => {
    await expect(client.request("GET", "/fast")).resolves.toEqual({ ok: true });
    const [first = 0, second = 0] = calls("/fast");
    expect(second - first).toBeGreaterThanOrEqual(950);
  });

  it("gives the 429 when the Retry-After outlasts the request timeout", async () => {
    await expect(client.request("GET", "/slow")).rejects.toMatchObject({ status: 429, reason: "TooManyRequests" });
    expect(calls("/slow")).toHaveLength(1);
  });
});

// A DELETE carries a body (propagationPolicy); unframed, the server would read it as the start of
// the next request on the kept-alive socket and answer that one 400.
describe("KubeClient.request with a body on a kept-alive socket", () => {
  const api = new FakeApiserver([{ apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" }]);
  beforeAll(async () => {
    await api.start();
    api.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "a" } });
  });
  afterAll(() => api.stop());

  it("frames a DELETE's body, so the next request on the socket is read as itself", async () => {
    const client = api.client();
    await client.request("DELETE", "/api/v1/namespaces/a/configmaps/x", { propagationPolicy: "Background" });
    await client.request("GET", "/api/v1/namespaces/a/configmaps");
    expect(
      api.requests.map((r) => ({ method: r.method, url: r.path, length: r.headers["content-length"], body: r.body })),
    ).toEqual([
      { method: "DELETE", url: "/api/v1/namespaces/a/configmaps/x", length: "34", body: { propagationPolicy: "Background" } },
      { method: "GET", url: "/api/v1/namespaces/a/configmaps", length: undefined, body: undefined },
    ]);
  });
});
