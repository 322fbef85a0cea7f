// Watches over https on a real TLS server: HTTP/2 streams proven alive by PINGs (a quiet watch is not
// ended and opened again), a frozen connection given up within about the request timeout, and a
// server that speaks only HTTP/1.1 still served.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { makePki, type Pki } from "../dev/pki.ts";
import { KubeClient, type WatchEvent } from "./client.ts";
import { type FreezingProxy, freezingProxy } from "./freezing-proxy.ts";

const IDLE_MS = 1_500;
const ADDED = `${JSON.stringify({ type: "ADDED", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } } })}\n`;

let pki: Pki;
beforeAll(async () => {
  pki = await makePki(mkdtempSync(join(tmpdir(), "ramp-watch-session-")));
});

/** What a server saw: each watch request's query, and the PINGs it answered. */
interface Seen {
  watches: URLSearchParams[];
  pings: number;
}

type TlsServer = Http2SecureServer | HttpsServer;

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** A TLS server whose watches send one ADDED event and then stay silent until the client leaves. */
async function serve(http2: boolean): Promise<{ url: string; seen: Seen }> {
  const seen: Seen = { watches: [], pings: 0 };
  const tls = { key: readFileSync(pki.adminKey), cert: readFileSync(pki.adminCert) };
  const handler = (
    req: { url?: string },
    res: { writeHead(code: number, h: Record<string, string>): unknown; write(s: string): unknown },
  ) => {
    seen.watches.push(new URLSearchParams((req.url ?? "").split("?")[1] ?? ""));
    res.writeHead(200, { "content-type": "application/json" });
    res.write(ADDED);
  };
  const server: TlsServer = http2 ? createSecureServer(tls, handler) : createHttpsServer(tls, handler);
  const sessions: ServerHttp2Session[] = [];
  if (http2) {
    (server as Http2SecureServer).on("session", (s) => {
      sessions.push(s);
      s.on("ping", () => seen.pings++);
    });
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push({
    close: () => {
      for (const s of sessions) s.destroy();
      (server as HttpsServer).closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function clientOf(server: string): KubeClient {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-watch-session-")), "config");
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server, "certificate-authority": pki.caCert } }],
      users: [{ name: "u", user: {} }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
      "current-context": "c",
    }),
  );
  return new KubeClient({ kubeconfig, requestTimeoutMs: IDLE_MS });
}

/** Starts a watch; what it received and how it ended so far. */
function watch(client: KubeClient) {
  const abort = new AbortController();
  const state: { events: WatchEvent[]; ended?: string } = { events: [] };
  const done = client
    .watch("/api/v1/configmaps?watch=1&timeoutSeconds=300", (e) => state.events.push(e), abort.signal)
    .then(
      () => (state.ended = "ended"),
      (err: Error) => (state.ended = err.message),
    );
  open.push({
    close: () => {
      abort.abort();
      return done;
    },
  });
  return state;
}

describe("watches over https", () => {
  it("HTTP/2: a quiet watch outlives the request timeout, its connection proven by PINGs, the apiserver's timeout asked as it is", async () => {
    const { url, seen } = await serve(true);
    const state = watch(clientOf(url));
    const startedAt = Date.now();
    await expect.poll(() => state.events.length).toBe(1);
    // Four request timeouts of silence on the stream: over HTTP/1.1 it would have been given up.
    await expect.poll(() => Date.now() - startedAt >= 4 * IDLE_MS, { timeout: 15_000, interval: 100 }).toBe(true);
    expect(state.ended).toBeUndefined();
    expect(seen.watches.map((q) => q.get("timeoutSeconds"))).toEqual(["300"]);
    expect(seen.pings).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it("HTTP/2: a frozen connection is given up within about the request timeout, with the watch named", async () => {
    const { url } = await serve(true);
    const proxy: FreezingProxy = await freezingProxy(url);
    open.push(proxy);
    const state = watch(clientOf(proxy.url));
    await expect.poll(() => state.events.length).toBe(1);
    proxy.freeze();
    const frozenAt = Date.now();
    await expect
      .poll(() => state.ended, { timeout: 10_000, interval: 50 })
      .toMatch(/^WATCH https:.*\/configmaps: no answer within 1.5s$/);
    // At most a quarter of the timeout to the PING, half to give it up, and a tick: 2x is generous.
    expect(Date.now() - frozenAt).toBeLessThan(4 * IDLE_MS + 2_000);
  }, 30_000);

  it("a server that speaks only HTTP/1.1 gets the watch over HTTP/1.1, ended within the request timeout as before", async () => {
    const { url, seen } = await serve(false);
    const state = watch(clientOf(url));
    await expect.poll(() => state.events.length).toBe(1);
    await expect.poll(() => state.ended, { timeout: 10_000 }).toMatch(/no answer within 1.5s/);
    expect(seen.watches[0]?.get("timeoutSeconds")).toBe("1");
  }, 30_000);
});
