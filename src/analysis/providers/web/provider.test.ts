// The web provider against a real local receiver: each failure's code, and a Secret header never
// reported even when the endpoint echoes it.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Metric } from "../../../api/analysis.ts";
import { OutboundDoor } from "../../../net/outbound.ts";
import type { MeasureContext } from "../../types.ts";
import { webProvider } from "./provider.ts";

const TOKEN = "Bearer t0ps3cret";
/** Requests the receiver got, by path: what a refused measurement must not have sent. */
const received: string[] = [];
const server = createServer((req, res) => {
  req.resume();
  received.push(new URL(req.url ?? "/", "http://receiver").pathname);
  const send = (status: number, body: string, headers: Record<string, string> = {}) => res.writeHead(status, headers).end(body);
  switch (new URL(req.url ?? "/", "http://receiver").pathname) {
    case "/ok":
      return send(200, JSON.stringify({ a: { b: [0.5, 2] } }));
    case "/echo":
      return send(200, `not json, you sent ${req.headers.authorization}`);
    case "/500":
      return send(500, "{}");
    case "/redirect":
      return send(302, "", { location: "http://169.254.169.254/" });
    case "/big":
      return send(200, `[${"1,".repeat(600_000)}1]`);
    case "/slow":
      return void setTimeout(() => send(200, "1"), 3000);
    default:
      return send(404, "{}");
  }
});
let base = "";
beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const metric = (web: Record<string, unknown>): Metric =>
  ({ name: "m", successCondition: "true", provider: { web: { method: "GET", ...web } } }) as unknown as Metric;
const ctx: MeasureContext = {
  args: {},
  now: new Date(0),
  namespace: "team",
  readSecret: async () => TOKEN,
  outbound: new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] }),
};
const header = [{ key: "Authorization", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }];

describe("webProvider", () => {
  it("reads the value at the path", async () => {
    expect(await webProvider.measure(metric({ url: `${base}/ok?token=x`, jsonPath: "$.a.b" }), ctx)).toEqual({
      ok: true,
      value: [0.5, 2],
      metadata: { url: `${base}/ok`, jsonPath: "$.a.b", status: "200" },
    });
  });

  it.each([
    ["/500", {}, "WEB_HTTP_ERROR", /answered HTTP 500/],
    ["/redirect", {}, "DESTINATION_NOT_ALLOWED", /169\.254\.169\.254/],
    ["/big", {}, "WEB_RESPONSE_TOO_LARGE", /longer than 1048576 bytes/],
    ["/slow", { timeout: 1 }, "WEB_TIMEOUT", /did not answer within 1s/],
    ["/echo", {}, "WEB_BAD_RESPONSE", /not JSON/],
  ])("%s is %s", async (path, extra, code, message) => {
    const outcome = await webProvider.measure(metric({ url: `${base}${path}`, ...extra }), ctx);
    expect(outcome).toMatchObject({ ok: false, code, message: expect.stringMatching(message) });
  });

  it("an unreachable URL is WEB_UNREACHABLE", async () => {
    const outcome = await webProvider.measure(metric({ url: "http://127.0.0.1:1/" }), ctx);
    expect(outcome).toMatchObject({ ok: false, code: "WEB_UNREACHABLE" });
  });

  it.each([
    ["a substituted host", "http://{{args.host}}/latest/meta-data", { host: "169.254.169.254" }],
    ["a substituted userinfo trick", "http://{{args.host}}/", { host: "127.0.0.1@169.254.169.254" }],
    ["a substituted apiserver", "https://{{args.host}}/api", { host: "10.96.0.1" }],
  ])("the outbound policy judges the URL after substitution: %s is DESTINATION_NOT_ALLOWED", async (_what, url, args) => {
    const door = new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [{ address: "10.96.0.1", port: 443 }] });
    const outcome = await webProvider.measure(metric({ url }), { ...ctx, args, outbound: door });
    expect(outcome).toMatchObject({ ok: false, code: "DESTINATION_NOT_ALLOWED" });
  });

  it.each([
    ["an argument with CR LF", [{ key: "X-Team", value: "{{args.team}}" }], { team: "a\r\nX-Injected: 1" }, undefined],
    ["an argument with a NUL", [{ key: "X-Team", value: "{{args.team}}" }], { team: "a\u0000b" }, undefined],
    ["a Secret with a trailing LF", header, {}, `${TOKEN}\n`],
  ])("a header from %s is WEB_BAD_HEADER, nothing is sent, the value is not shown", async (_what, headers, args, secret) => {
    const before = received.length;
    const read = secret === undefined ? ctx.readSecret : async () => secret;
    const outcome = await webProvider.measure(metric({ url: `${base}/ok`, headers }), {
      ...ctx,
      args,
      ...(read ? { readSecret: read } : {}),
    });
    expect(outcome).toMatchObject({ ok: false, code: "WEB_BAD_HEADER", message: expect.stringMatching(/control character/) });
    expect(JSON.stringify(outcome)).not.toMatch(/Injected|t0ps3cret/);
    expect(received.length).toBe(before);
  });

  it("a Secret header echoed back by the endpoint is masked in the message", async () => {
    const outcome = await webProvider.measure(metric({ url: `${base}/echo`, headers: header }), ctx);
    expect(outcome).toMatchObject({ ok: false, code: "WEB_BAD_RESPONSE" });
    expect(JSON.stringify(outcome)).not.toContain("t0ps3cret");
    expect(JSON.stringify(outcome)).toContain("***");
  });
});
