// The door's lookup: every resolved address is checked and the connect goes to the checked one.
// The resolver is the seam (a DNS server answering what a rebinding attacker would); the receiver is real.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DestinationNotAllowed, OutboundDoor, ResponseTooLarge } from "./outbound.ts";
import type { OutboundPolicy } from "./policy.ts";

const policy: OutboundPolicy = { allow: [], deny: [], allowLoopback: true, apiserver: [] };
const resolvingTo =
  (...addresses: string[]) =>
  (_host: string, cb: (err: Error | null, found: { address: string; family: number }[]) => void) =>
    cb(
      null,
      addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })),
    );

describe("OutboundDoor.post", () => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res
      .writeHead(req.url === "/redirect" ? 302 : 204, req.url === "/redirect" ? { location: "http://169.254.169.254/" } : {})
      .end();
  });
  let port = 0;
  beforeAll(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());
  const post = (door: OutboundDoor, url: string) => door.post(url, { headers: {}, body: "{}", timeoutMs: 5000 });

  it.each([
    { answer: ["169.254.169.254"], rule: "built-in: cloud metadata address" },
    { answer: ["127.0.0.1", "169.254.169.254"], rule: "built-in: cloud metadata address" },
    { answer: ["::ffff:169.254.169.254"], rule: "built-in: cloud metadata address" },
    { answer: ["fe80::1"], rule: "built-in: link-local address" },
  ])("a name resolving to $answer is refused before any connect ($rule)", async ({ answer, rule }) => {
    const before = hits;
    const door = new OutboundDoor(policy, resolvingTo(...answer));
    await expect(post(door, `http://rebind.example:${port}/`)).rejects.toMatchObject({
      code: "DESTINATION_NOT_ALLOWED",
      origin: `http://rebind.example:${port}`,
      rule,
    });
    expect(hits).toBe(before);
  });

  it("connects to the address it checked", async () => {
    const door = new OutboundDoor(policy, resolvingTo("127.0.0.1"));
    expect((await post(door, `http://receiver.example:${port}/`)).status).toBe(204);
  });

  it("a redirect outside the policy is refused as such, and not followed", async () => {
    const door = new OutboundDoor(policy);
    const refusal = await post(door, `http://127.0.0.1:${port}/redirect`).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(DestinationNotAllowed);
    expect((refusal as DestinationNotAllowed).origin).toBe("http://169.254.169.254");
  });
});

describe("OutboundDoor.fetchText", () => {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/big") return res.writeHead(200).end("x".repeat(10_000));
      if (req.url === "/slow") return setTimeout(() => res.writeHead(200).end("late"), 2000);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ method: req.method, body }));
    });
  });
  let port = 0;
  beforeAll(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());
  const door = new OutboundDoor(policy);
  const opts = { method: "GET" as const, headers: {}, timeoutMs: 5000, maxBytes: 1000 };

  it("reads the answer's body, and sends the request's", async () => {
    expect(await door.fetchText(`http://127.0.0.1:${port}/`, opts)).toMatchObject({
      status: 200,
      body: '{"method":"GET","body":""}',
    });
    const posted = await door.fetchText(`http://127.0.0.1:${port}/`, { ...opts, method: "POST", body: "hi" });
    expect(JSON.parse(posted.body)).toEqual({ method: "POST", body: "hi" });
  });

  it("refuses an answer longer than maxBytes", async () => {
    await expect(door.fetchText(`http://127.0.0.1:${port}/big`, opts)).rejects.toBeInstanceOf(ResponseTooLarge);
  });

  it("gives up at the deadline", async () => {
    await expect(door.fetchText(`http://127.0.0.1:${port}/slow`, { ...opts, timeoutMs: 200 })).rejects.toMatchObject({
      name: "TimeoutError",
    });
  });

  it("refuses a destination outside the policy before connecting", async () => {
    const strict = new OutboundDoor({ ...policy, allowLoopback: false });
    await expect(strict.fetchText(`http://127.0.0.1:${port}/`, opts)).rejects.toMatchObject({ code: "DESTINATION_NOT_ALLOWED" });
  });
});
