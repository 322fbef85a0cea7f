// The settings on a fake apiserver (127.0.0.1): the ConfigMap is listed and watched by name, so an
// edit takes effect as it comes and current() asks the apiserver nothing.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeApiserver } from "../kube/fake-apiserver.ts";
import { NotificationSettings } from "./settings.ts";

const PATH = "/api/v1/namespaces/ns/configmaps";

const configMap = (name: string, rv: string, data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv },
  data,
});
const hook = (url: string) => ({ destinations: `webhook:\n  hook:\n    url: ${url}\n`, "on-completed": "webhook:hook" });

describe("NotificationSettings", () => {
  let api: FakeApiserver;
  /** What the apiserver was asked: path and, for a watch, "watch&", then the field selector. */
  const asked = () => api.requests.map((r) => `${r.path}?${r.method === "WATCH" ? "watch&" : ""}${r.query.get("fieldSelector")}`);
  beforeEach(async () => {
    api = await new FakeApiserver([{ apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" }]).start();
  });
  afterEach(() => api.stop());

  const started = () => {
    const lines: string[] = [];
    const settings = new NotificationSettings(api.client(), {
      namespace: "ns",
      name: "ramp-notifications",
      log: (l) => lines.push(l),
    });
    return { settings, lines };
  };

  it("lists and watches the one ConfigMap by name; an edit takes effect as it comes, with no request of current()", async () => {
    api.put(configMap("ramp-notifications", "5", hook("http://a.example")));
    const { settings, lines } = started();
    try {
      await settings.start();
      await expect.poll(() => api.watching).toBe(1);
      expect(asked()).toEqual([`${PATH}?metadata.name=ramp-notifications`, `${PATH}?watch&metadata.name=ramp-notifications`]);
      expect(settings.current().destinations.size).toBe(1);
      for (let i = 0; i < 100; i++) settings.current();
      expect(asked()).toHaveLength(2);

      const edited = {
        ...hook("http://a.example"),
        destinations: "webhook:\n  hook: {url: http://a.example}\n  two: {url: http://b.example}\n",
      };
      api.put(configMap("ramp-notifications", "6", edited));
      await expect.poll(() => settings.current().destinations.size).toBe(2);
      api.put(configMap("ramp-notifications", "7", { delivery: "maxAttempts: 0" }));
      await expect.poll(() => settings.current().destinations.size).toBe(0);
      api.remove(configMap("ramp-notifications", "8", {}));
      await expect.poll(() => lines.at(-1)).toMatch(/not found/);
      for (let i = 0; i < 10; i++) settings.current();

      // Each state said once, as it came (a broken one with its problem), and nothing more asked.
      expect(lines).toEqual([
        "notifications: ConfigMap ns/ramp-notifications: 1 destinations",
        "notifications: ConfigMap ns/ramp-notifications: 2 destinations",
        expect.stringMatching(/^notifications: ConfigMap ns\/ramp-notifications: 0 destinations\n {2}BAD_DELIVERY: /),
        "notifications: ConfigMap ns/ramp-notifications not found; none are sent until it exists",
      ]);
      expect(asked()).toHaveLength(2);
      expect(settings.problem).toBeUndefined();
    } finally {
      settings.stop();
    }
  });

  it("an absent ConfigMap is the empty config until it is created", async () => {
    api.put(configMap("other", "3", hook("http://a.example")));
    const { settings, lines } = started();
    try {
      await settings.start();
      expect(settings.current().destinations.size).toBe(0);
      expect(lines).toEqual(["notifications: ConfigMap ns/ramp-notifications not found; none are sent until it exists"]);
      await expect.poll(() => api.watching).toBe(1);
      api.put(configMap("ramp-notifications", "4", hook("http://a.example")));
      await expect.poll(() => settings.current().destinations.size).toBe(1);
    } finally {
      settings.stop();
    }
  });

  it("a refused list is retried, and said once with the verb, the resource and the ConfigMap", async () => {
    const message = 'configmaps is forbidden: User "x" cannot list resource "configmaps" in the namespace "ns"';
    api.answerWith(() => ({ code: 403, message }));
    const { settings, lines } = started();
    try {
      void settings.start();
      await expect.poll(() => asked().length).toBeGreaterThanOrEqual(2);
      expect(settings.current().destinations.size).toBe(0);
      expect(settings.problem).toMatch(/^notifications: ConfigMap ns\/ramp-notifications: .*cannot list resource "configmaps"/);
      expect(lines).toEqual([
        expect.stringMatching(/^notifications: watching ConfigMap ns\/ramp-notifications failed .*cannot list/),
      ]);
    } finally {
      settings.stop();
    }
  });
});
