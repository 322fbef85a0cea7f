// The settings on a fake apiserver (127.0.0.1): the ConfigMap is listed and watched by name, so an
// edit takes effect as it comes and current() asks the apiserver nothing.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "../kube/client.ts";
import { NotificationSettings } from "./settings.ts";

const PATH = "/api/v1/namespaces/ns/configmaps";
const DISCOVERY = { resources: [{ name: "configmaps", kind: "ConfigMap", namespaced: true }] };

const configMap = (name: string, rv: string, data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv },
  data,
});
const hook = (url: string) => ({ destinations: `webhook:\n  hook:\n    url: ${url}\n`, "on-completed": "webhook:hook" });

describe("NotificationSettings", () => {
  /** What the fake apiserver holds, what it was asked (path and query), and the open watches. */
  let held: ReturnType<typeof configMap>[] = [];
  let refuse = false;
  const asked: string[] = [];
  const watches = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "", "http://x");
    if (url.pathname === "/api/v1") return void res.end(JSON.stringify(DISCOVERY));
    asked.push(`${url.pathname}?${url.searchParams.get("watch") ? "watch&" : ""}${url.searchParams.get("fieldSelector")}`);
    if (refuse) {
      res.writeHead(403, { "content-type": "application/json" });
      const message = 'configmaps is forbidden: User "x" cannot list resource "configmaps" in the namespace "ns"';
      return void res.end(JSON.stringify({ kind: "Status", code: 403, reason: "Forbidden", message }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    if (url.searchParams.get("watch")) {
      watches.add(res);
      res.on("close", () => watches.delete(res));
      return void res.flushHeaders();
    }
    const name = url.searchParams.get("fieldSelector")?.replace("metadata.name=", "");
    res.end(JSON.stringify({ items: held.filter((c) => c.metadata.name === name), metadata: { resourceVersion: "1" } }));
  });
  const send = (type: string, object: unknown) => {
    for (const w of watches) w.write(`${JSON.stringify({ type, object })}\n`);
  };
  let client: KubeClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-settings-")), "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster: { server: url } }],
        users: [{ name: "u", user: {} }],
        contexts: [{ name: "c", context: { cluster: "fake", user: "u" } }],
        "current-context": "c",
      }),
    );
    client = new KubeClient({ kubeconfig, requestTimeoutMs: 10_000 });
  });
  afterAll(async () => {
    for (const w of watches) w.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const started = async () => {
    asked.length = 0;
    const lines: string[] = [];
    const settings = new NotificationSettings(client, { namespace: "ns", name: "ramp-notifications", log: (l) => lines.push(l) });
    return { settings, lines };
  };

  it("lists and watches the one ConfigMap by name; an edit takes effect as it comes, with no request of current()", async () => {
    held = [configMap("ramp-notifications", "5", hook("http://a.example"))];
    const { settings, lines } = await started();
    try {
      await settings.start();
      await expect.poll(() => watches.size).toBe(1);
      expect(asked).toEqual([`${PATH}?metadata.name=ramp-notifications`, `${PATH}?watch&metadata.name=ramp-notifications`]);
      expect(settings.current().destinations.size).toBe(1);
      for (let i = 0; i < 100; i++) settings.current();
      expect(asked).toHaveLength(2);

      const edited = {
        ...hook("http://a.example"),
        destinations: "webhook:\n  hook: {url: http://a.example}\n  two: {url: http://b.example}\n",
      };
      send("MODIFIED", configMap("ramp-notifications", "6", edited));
      await expect.poll(() => settings.current().destinations.size).toBe(2);
      send("MODIFIED", configMap("ramp-notifications", "7", { delivery: "maxAttempts: 0" }));
      await expect.poll(() => settings.current().destinations.size).toBe(0);
      send("DELETED", configMap("ramp-notifications", "8", {}));
      await expect.poll(() => lines.at(-1)).toMatch(/not found/);
      for (let i = 0; i < 10; i++) settings.current();

      // Each state said once, as it came (a broken one with its problem), and nothing more asked.
      expect(lines).toEqual([
        "notifications: ConfigMap ns/ramp-notifications: 1 destinations",
        "notifications: ConfigMap ns/ramp-notifications: 2 destinations",
        expect.stringMatching(/^notifications: ConfigMap ns\/ramp-notifications: 0 destinations\n {2}BAD_DELIVERY: /),
        "notifications: ConfigMap ns/ramp-notifications not found; none are sent until it exists",
      ]);
      expect(asked).toHaveLength(2);
      expect(settings.problem).toBeUndefined();
    } finally {
      settings.stop();
    }
  });

  it("an absent ConfigMap is the empty config until it is created", async () => {
    held = [configMap("other", "3", hook("http://a.example"))];
    const { settings, lines } = await started();
    try {
      await settings.start();
      expect(settings.current().destinations.size).toBe(0);
      expect(lines).toEqual(["notifications: ConfigMap ns/ramp-notifications not found; none are sent until it exists"]);
      await expect.poll(() => watches.size).toBe(1);
      send("ADDED", configMap("ramp-notifications", "4", hook("http://a.example")));
      await expect.poll(() => settings.current().destinations.size).toBe(1);
    } finally {
      settings.stop();
    }
  });

  it("a refused list is retried, and said once with the verb, the resource and the ConfigMap", async () => {
    refuse = true;
    const { settings, lines } = await started();
    try {
      void settings.start();
      await expect.poll(() => asked.length).toBeGreaterThanOrEqual(2);
      expect(settings.current().destinations.size).toBe(0);
      expect(settings.problem).toMatch(/^notifications: ConfigMap ns\/ramp-notifications: .*cannot list resource "configmaps"/);
      expect(lines).toEqual([
        expect.stringMatching(/^notifications: watching ConfigMap ns\/ramp-notifications failed .*cannot list/),
      ]);
    } finally {
      settings.stop();
      refuse = false;
    }
  });
});
