import { describe, expect, it } from "vitest";
import { clientOptions, type KubeFlags, requestLogLine, requestTimeoutMs } from "./kube-options.ts";

describe("requestTimeoutMs, kubectl's --request-timeout", () => {
  it.each([
    ["0", 0],
    ["5", 5000],
    ["30s", 30_000],
    ["1m", 60_000],
    ["1m30s", 90_000],
    ["250ms", 250],
    ["1.5h", 5_400_000],
  ])("%s is %d ms", (value, ms) => {
    expect(requestTimeoutMs(value)).toBe(ms);
  });

  it.each(["", "soon", "30 s", "-1s", "1d", "s30"])("refuses %j, naming the flag", (value) => {
    expect(() => requestTimeoutMs(value)).toThrow(/^--request-timeout: expected 0 \(no limit\)/);
  });
});

describe("clientOptions: flags -> client options", () => {
  it.each<[string, KubeFlags, string | undefined, object]>([
    ["nothing: the default timeout", {}, "30s", { requestTimeoutMs: 30_000 }],
    ["no default (the controller): no timeout", {}, undefined, {}],
    ["--request-timeout beats the default", { requestTimeout: "0" }, "30s", { requestTimeoutMs: 0 }],
    [
      "kubeconfig, context, server, token, insecure",
      { kubeconfig: "/k", context: "c", server: "https://h:1", token: "t", insecureSkipTlsVerify: true },
      undefined,
      { kubeconfig: "/k", context: "c", server: "https://h:1", token: "t", insecureSkipTlsVerify: true },
    ],
    ["--as", { as: "jane" }, undefined, { impersonate: { user: "jane" } }],
    [
      "--as with groups",
      { as: "jane", asGroup: ["devs", "ops"] },
      undefined,
      { impersonate: { user: "jane", groups: ["devs", "ops"] } },
    ],
    ["-v below 6 logs nothing", { v: 5 }, undefined, {}],
  ])("%s", (_, flags, fallback, expected) => {
    expect(clientOptions(flags, fallback)).toEqual(expected);
  });

  it("-v 6 logs each answered request", () => {
    const lines: string[] = [];
    const opts = clientOptions({ v: 6 }, undefined, (l) => lines.push(l));
    opts.onResponse?.("GET", 404, { url: new URL("https://h:1/api/v1/pods"), ms: 7 });
    expect(lines).toEqual([
      expect.stringMatching(
        /^I\d{4} [\d:.]{15} \d+ client\.ts\] GET https:\/\/h:1\/api\/v1\/pods 404 Not Found in 7 milliseconds$/,
      ),
    ]);
  });

  it("--as-group needs --as", () => {
    expect(() => clientOptions({ asGroup: ["devs"] }, undefined)).toThrow(
      "--as-group: requesting groups without impersonating a user (--as)",
    );
  });
});

describe("requestLogLine", () => {
  const now = new Date("2026-03-04T05:06:07.089Z");
  const url = new URL("https://127.0.0.1:6443/apis/ramp.dev/v1alpha1/namespaces/a/rollouts/web");
  it.each([
    [
      200,
      12.4,
      "I0304 05:06:07.089000 42 client.ts] GET https://127.0.0.1:6443/apis/ramp.dev/v1alpha1/namespaces/a/rollouts/web 200 OK in 12 milliseconds",
    ],
    [
      0,
      3,
      "I0304 05:06:07.089000 42 client.ts] GET https://127.0.0.1:6443/apis/ramp.dev/v1alpha1/namespaces/a/rollouts/web (no answer) in 3 milliseconds",
    ],
    [
      299,
      1,
      "I0304 05:06:07.089000 42 client.ts] GET https://127.0.0.1:6443/apis/ramp.dev/v1alpha1/namespaces/a/rollouts/web 299 in 1 milliseconds",
    ],
  ])("%d", (code, ms, line) => {
    expect(requestLogLine("GET", code, url, ms, now, 42)).toBe(line);
  });
});
