import { describe, expect, it } from "vitest";
import type { ExecPlugin } from "./kubeconfig.ts";
import { ExecCredentials, type FileReader, WatchedFile } from "./transport.ts";

/** Files in memory that count their reads. */
function files(initial: Record<string, string>) {
  const contents = new Map(Object.entries(initial));
  const versions = new Map<string, number>([...contents.keys()].map((k) => [k, 1]));
  let reads = 0;
  const fs: FileReader = {
    version: (path) => {
      const v = versions.get(path);
      if (v === undefined) throw new Error("ENOENT: no such file or directory");
      return String(v);
    },
    read: (path) => {
      reads++;
      return Buffer.from(contents.get(path) ?? "");
    },
  };
  return {
    fs,
    write: (path: string, text: string) => {
      contents.set(path, text);
      versions.set(path, (versions.get(path) ?? 0) + 1);
    },
    remove: (path: string) => versions.delete(path),
    reads: () => reads,
  };
}

describe("WatchedFile", () => {
  it.each<[string, (f: ReturnType<typeof files>) => void, string, number]>([
    ["read once however often it is asked", () => undefined, "one", 1],
    ["read again when it changes (a rotated token)", (f) => f.write("/token", "two"), "two", 2],
  ])("%s", (_, change, expected, reads) => {
    const f = files({ "/token": "one" });
    const file = new WatchedFile("/token", "token file", f.fs);
    file.read();
    change(f);
    for (let i = 0; i < 5; i++) file.read();
    expect([file.read().toString(), f.reads()]).toEqual([expected, reads]);
  });

  it("the same Buffer while unchanged (so the pool is kept), and a clear error once the file is gone", () => {
    const f = files({ "/ca.crt": "pem" });
    const file = new WatchedFile("/ca.crt", "certificate authority", f.fs);
    expect(file.read()).toBe(file.read());
    f.remove("/ca.crt");
    expect(() => file.read()).toThrow("reading the certificate authority /ca.crt: ENOENT: no such file or directory");
  });
});

describe("ExecCredentials", () => {
  const plugin: ExecPlugin = {
    apiVersion: "client.authentication.k8s.io/v1",
    command: "plugin",
    args: ["token"],
    env: [{ name: "A", value: "b" }],
  };
  const credential = (status: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: plugin.apiVersion, kind: "ExecCredential", status });

  function counted(answers: string[]) {
    const calls: NodeJS.ProcessEnv[] = [];
    const run = async (_command: string, _args: string[], env: NodeJS.ProcessEnv) => {
      calls.push(env);
      return answers[Math.min(calls.length, answers.length) - 1] as string;
    };
    return { calls, exec: new ExecCredentials(plugin, run) };
  }

  it.each<[string, Record<string, unknown>, (e: ExecCredentials) => void, number, number]>([
    ["a token without expiry is kept", { token: "t" }, () => undefined, Date.now(), 1],
    [
      "a token is kept until shortly before it expires",
      { token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" },
      () => undefined,
      Date.parse("2029-12-31T23:59:00Z"),
      1,
    ],
    [
      "an expiring token is fetched again",
      { token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" },
      () => undefined,
      Date.parse("2029-12-31T23:59:55Z"),
      2,
    ],
    ["a 401 makes the next request run the plugin again", { token: "t" }, (e) => e.refused(), Date.now(), 2],
  ])("%s", async (_, status, between, later, runs) => {
    const { calls, exec } = counted([credential(status)]);
    await exec.get(Date.parse("2029-01-01T00:00:00Z"));
    between(exec);
    await exec.get(later);
    expect(calls).toHaveLength(runs);
  });

  it("concurrent requests share one run; the plugin gets its env and KUBERNETES_EXEC_INFO", async () => {
    const { calls, exec } = counted([credential({ token: "t" })]);
    const answers = await Promise.all([exec.get(), exec.get(), exec.get()]);
    expect(answers.map((a) => a.token)).toEqual(["t", "t", "t"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.A).toBe("b");
    expect(JSON.parse(calls[0]?.KUBERNETES_EXEC_INFO ?? "")).toEqual({
      apiVersion: plugin.apiVersion,
      kind: "ExecCredential",
      spec: { interactive: false },
    });
  });

  it("a missing plugin says so with its install hint", async () => {
    const missing = new ExecCredentials({ ...plugin, installHint: "install it with brew" }, async () => {
      throw Object.assign(new Error("spawn plugin ENOENT"), { code: "ENOENT" });
    });
    await expect(missing.get()).rejects.toThrow("getting credentials: exec: executable plugin not found\n\ninstall it with brew");
  });
});
