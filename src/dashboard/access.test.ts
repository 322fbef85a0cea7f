import { describe, expect, it } from "vitest";
import type { KubeClient } from "../kube/client.ts";
import { AccessError, TokenAccess, writesOf } from "./access.ts";

describe("writesOf", () => {
  it.each([
    ["status only (promote, abort, retry)", { status: { abort: true }, summary: "" }, [{ verb: "patch", subresource: "status" }]],
    ["spec only (pause, resume, undo)", { spec: { paused: true }, summary: "" }, [{ verb: "patch" }]],
    [
      "both (promote of a paused rollout)",
      { spec: {}, status: {}, summary: "" },
      [{ verb: "patch", subresource: "status" }, { verb: "patch" }],
    ],
    ["nothing to write", { summary: "is already paused" }, []],
  ])("%s", (_what, change, expected) =>
    expect(writesOf(change, "shop", "web")).toEqual(expected.map((e) => ({ namespace: "shop", name: "web", ...e }))),
  );
});

/** A client whose apiserver answers reviews from a table, counting the calls. */
function reviewer(users: Record<string, string>, allowed: (verb: string, subresource?: string) => boolean) {
  const calls: string[] = [];
  const client = {
    request: async (_method: string, path: string, body: { spec: Record<string, unknown> }) => {
      calls.push(path);
      if (path.endsWith("/tokenreviews")) {
        const user = users[body.spec.token as string];
        return { status: user ? { authenticated: true, user: { username: user, groups: ["team"] } } : { authenticated: false } };
      }
      const a = body.spec.resourceAttributes as { verb: string; subresource?: string };
      return {
        status: { allowed: allowed(a.verb, a.subresource), reason: allowed(a.verb, a.subresource) ? "" : "no RoleBinding" },
      };
    },
  } as unknown as KubeClient;
  return { client, calls };
}

describe("TokenAccess", () => {
  it("401 without a token or with one the apiserver does not know; the user of a good one", async () => {
    const { client } = reviewer({ good: "alice" }, () => true);
    const access = new TokenAccess(client);
    await expect(access.authenticate(undefined)).rejects.toMatchObject({ status: 401 });
    await expect(access.authenticate("bad")).rejects.toBeInstanceOf(AccessError);
    expect(await access.authenticate("good")).toEqual({ username: "alice", groups: ["team"] });
  });

  it("403 naming the user, verb and resource; answers kept for 10 s", async () => {
    let now = 0;
    const { client, calls } = reviewer({ t: "bob" }, (verb, sub) => verb === "get" || sub === undefined);
    const access = new TokenAccess(client, () => now);
    const bob = await access.authenticate("t");
    await access.authorize(bob, { verb: "get", namespace: "shop", name: "web" });
    await expect(access.authorize(bob, { verb: "patch", namespace: "shop", name: "web", subresource: "status" })).rejects.toThrow(
      'User "bob" cannot patch resource "rollouts/status" in API group "ramp.dev" in the namespace "shop" (no RoleBinding)',
    );
    const asked = calls.length;
    await access.authenticate("t");
    await access.authorize(bob, { verb: "get", namespace: "shop", name: "web" });
    expect(calls.length).toBe(asked);
    now = 10_001;
    await access.authorize(bob, { verb: "get", namespace: "shop", name: "web" });
    expect(calls.length).toBe(asked + 1);
  });
});
