import { describe, expect, it } from "vitest";
import { KubeConfigError, KubeError, KubeTimeoutError } from "./client.ts";
import { errorLine } from "./error-line.ts";

const nodeError = (message: string, fields: object) => Object.assign(new Error(message), fields);

describe("errorLine: one line, kubectl's words", () => {
  it.each<[string, unknown, string]>([
    [
      "a 403",
      new KubeError(403, "Forbidden", 'rollouts.ramp.dev "web" is forbidden: User "jane" cannot get resource "rollouts"'),
      'Error from server (Forbidden): rollouts.ramp.dev "web" is forbidden: User "jane" cannot get resource "rollouts"',
    ],
    [
      "a 404",
      new KubeError(404, "NotFound", 'rollouts.ramp.dev "x" not found'),
      'Error from server (NotFound): rollouts.ramp.dev "x" not found',
    ],
    ["an unknown context", new KubeConfigError('context "x" does not exist'), 'error: context "x" does not exist'],
    [
      "a refused connection",
      nodeError("connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED", address: "127.0.0.1", port: 1 }),
      "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?",
    ],
    [
      "an unknown host",
      nodeError("getaddrinfo ENOTFOUND nope.invalid", { code: "ENOTFOUND", hostname: "nope.invalid" }),
      "Unable to connect to the server: dial tcp: lookup nope.invalid: no such host",
    ],
    [
      "no answer in time",
      new KubeTimeoutError("GET", new URL("https://127.0.0.1:9/api?x=1"), 2000),
      "Unable to connect to the server: GET https://127.0.0.1:9/api: no answer within 2s",
    ],
    [
      "an untrusted certificate",
      nodeError("self-signed certificate", { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      "Unable to connect to the server: self-signed certificate",
    ],
    ["a file not found is not a connection", nodeError("ENOENT: no such file", { code: "ENOENT" }), "ramp: ENOENT: no such file"],
    ["Ramp's own refusal", new Error('rollout "web" is aborted'), 'ramp: rollout "web" is aborted'],
  ])("%s", (_, err, line) => {
    expect(errorLine(err)).toBe(line);
  });
});
