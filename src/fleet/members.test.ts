import { describe, expect, it } from "vitest";
import { KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import { OutboundDoor } from "../net/outbound.ts";
import { FLEET_MEMBER_LABEL, KUBECONFIG_KEY } from "./member.ts";
import { MemberClients } from "./members.ts";

const kubeconfig = (server: string) =>
  Buffer.from(
    JSON.stringify({
      clusters: [{ name: "c", cluster: { server, "certificate-authority-data": "Zm9v" } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
  ).toString("base64");

const secret = (name: string, member: string, over: { uid?: string; rv?: string; data?: Record<string, string> } = {}) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name,
    namespace: "fleet",
    uid: over.uid ?? `uid-${name}`,
    resourceVersion: over.rv ?? "1",
    labels: { [FLEET_MEMBER_LABEL]: member },
  },
  data: over.data ?? { [KUBECONFIG_KEY]: kubeconfig("https://10.0.0.1:6443") },
});

/** The management cluster as MemberClients reads it: labelled Secrets, and no ClusterProfile API. */
const management = (secrets: () => KubeObject[]) =>
  ({
    list: async (_api: string, kind: string) => {
      if (kind === "Secret") return secrets();
      throw new KubeError(404, "NotFound", "the server could not find the requested resource");
    },
  }) as unknown as KubeClient;

const clients = () =>
  new MemberClients({
    door: new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] }),
    requestTimeoutMs: 1000,
    fieldManager: "test",
  });

describe("MemberClients", () => {
  it.each([
    ["a good kubeconfig", {}, undefined],
    ["no kubeconfig key", { data: {} }, "MEMBER_CREDENTIALS_INVALID"],
    [
      "a kubeconfig that is not one",
      { data: { [KUBECONFIG_KEY]: Buffer.from("{").toString("base64") } },
      "MEMBER_CREDENTIALS_INVALID",
    ],
    [
      "a server the outbound policy refuses",
      { data: { [KUBECONFIG_KEY]: kubeconfig("https://169.254.169.254") } },
      "DESTINATION_NOT_ALLOWED",
    ],
  ])("%s", async (_what, over, code) => {
    const [found] = await clients().list(
      management(() => [secret("m1", "m1", over)]),
      "fleet",
    );
    if (code) expect(found?.client).toMatchObject({ code });
    else expect(found?.client).toBeInstanceOf(KubeClient);
  });

  it("keeps a client while its Secret is unchanged, replaces it when the Secret changes or is made again, forgets it when deleted", async () => {
    let secrets = [secret("m1", "m1"), secret("m2", "m2")];
    const mc = clients();
    const m = management(() => secrets);
    const first = await mc.list(m, "fleet");
    const again = await mc.list(m, "fleet");
    expect(again[0]?.client).toBe(first[0]?.client);
    expect(mc.size).toBe(2);

    secrets = [secret("m1", "m1", { rv: "2" }), secret("m2", "m2")];
    const changed = await mc.list(m, "fleet");
    expect(changed[0]?.client).not.toBe(first[0]?.client);
    expect(changed[1]?.client).toBe(first[1]?.client);

    // Deleted and made again: same name and (by chance) the same resourceVersion, a new uid.
    secrets = [secret("m1", "m1", { rv: "2", uid: "uid-m1-again" }), secret("m2", "m2")];
    const remade = await mc.list(m, "fleet");
    expect(remade[0]?.client).not.toBe(changed[0]?.client);

    secrets = [secret("m1", "m1", { rv: "2", uid: "uid-m1-again" })];
    await mc.list(m, "fleet");
    expect(mc.size).toBe(1);
  });
});
