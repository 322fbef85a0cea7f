import { describe, expect, it } from "vitest";
import {
  type AccessOverrides,
  type ClusterAccess,
  clusterAccess,
  type ExecPlugin,
  inClusterKubeconfig,
  mergeKubeconfigs,
  NO_CONFIGURATION,
  parseExecCredential,
  parseKubeconfig,
  serverOnly,
} from "./kubeconfig.ts";

const CONFIG = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://dev.example:6443/
    certificate-authority: pki/ca.crt
- name: inline
  cluster:
    server: https://inline.example
    certificate-authority-data: Y2E=
    tls-server-name: api.internal
- name: insecure
  cluster:
    server: https://insecure.example
    certificate-authority-data: Y2E=
    insecure-skip-tls-verify: true
users:
- name: certs
  user:
    client-certificate: /abs/admin.crt
    client-key: admin.key
- name: inline-certs
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
- name: token
  user: {token: t0ken, as: jane, as-groups: [devs]}
- name: token-file
  user: {tokenFile: token}
- name: basic
  user: {username: u, password: p}
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/plugin
      args: [get-token]
      env: [{name: REGION, value: eu}]
      provideClusterInfo: true
- name: oidc
  user: {auth-provider: {name: oidc, config: {id-token: id.jwt}}}
- name: gcp
  user: {auth-provider: {name: gcp, config: {}}}
contexts:
- {name: dev, context: {cluster: dev, user: certs, namespace: team}}
- {name: inline, context: {cluster: inline, user: inline-certs}}
- {name: insecure, context: {cluster: insecure, user: token}}
- {name: token-file, context: {cluster: dev, user: token-file}}
- {name: basic, context: {cluster: dev, user: basic}}
- {name: exec, context: {cluster: inline, user: exec}}
- {name: oidc, context: {cluster: dev, user: oidc}}
- {name: gcp, context: {cluster: dev, user: gcp}}
- {name: no-user, context: {cluster: dev}}
- {name: lost, context: {cluster: gone, user: certs}}
`;

const config = parseKubeconfig(CONFIG, "/home/me/.kube");
const devCa = { file: "/home/me/.kube/pki/ca.crt" };
const inlineCa = { data: Buffer.from("ca") };

describe("clusterAccess", () => {
  it.each<[string, AccessOverrides, ClusterAccess]>([
    [
      "the current context; relative files are relative to the kubeconfig, the server's trailing slash dropped",
      {},
      {
        server: "https://dev.example:6443",
        namespace: "team",
        insecureSkipTlsVerify: false,
        ca: devCa,
        clientCert: { file: "/abs/admin.crt" },
        clientKey: { file: "/home/me/.kube/admin.key" },
        credential: { kind: "none" },
      },
    ],
    [
      "inline certificates are base64 data; tls-server-name is kept",
      { context: "inline" },
      {
        server: "https://inline.example",
        insecureSkipTlsVerify: false,
        tlsServerName: "api.internal",
        ca: inlineCa,
        clientCert: { data: Buffer.from("cert") },
        clientKey: { data: Buffer.from("key") },
        credential: { kind: "none" },
      },
    ],
    [
      "insecure-skip-tls-verify drops the CA; the kubeconfig's as/as-groups impersonate",
      { context: "insecure" },
      {
        server: "https://insecure.example",
        insecureSkipTlsVerify: true,
        credential: { kind: "token", token: "t0ken" },
        impersonate: { user: "jane", groups: ["devs"] },
      },
    ],
    [
      "a token file is named, not read (it rotates)",
      { context: "token-file" },
      {
        server: "https://dev.example:6443",
        insecureSkipTlsVerify: false,
        ca: devCa,
        credential: { kind: "tokenFile", file: "/home/me/.kube/token" },
      },
    ],
    [
      "basic auth",
      { context: "basic" },
      {
        server: "https://dev.example:6443",
        insecureSkipTlsVerify: false,
        ca: devCa,
        credential: { kind: "basic", username: "u", password: "p" },
      },
    ],
    [
      "an exec plugin: a command with a slash is relative to the kubeconfig; provideClusterInfo passes the cluster",
      { context: "exec" },
      {
        server: "https://inline.example",
        insecureSkipTlsVerify: false,
        tlsServerName: "api.internal",
        ca: inlineCa,
        credential: {
          kind: "exec",
          plugin: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "/home/me/.kube/bin/plugin",
            args: ["get-token"],
            env: [{ name: "REGION", value: "eu" }],
            cluster: {
              server: "https://inline.example",
              "certificate-authority-data": "Y2E=",
              "tls-server-name": "api.internal",
            },
          },
        },
      },
    ],
    [
      "oidc's id-token is a bearer token",
      { context: "oidc" },
      {
        server: "https://dev.example:6443",
        insecureSkipTlsVerify: false,
        ca: devCa,
        credential: { kind: "token", token: "id.jwt" },
      },
    ],
    [
      "a context without a user has no credential",
      { context: "no-user" },
      { server: "https://dev.example:6443", insecureSkipTlsVerify: false, ca: devCa, credential: { kind: "none" } },
    ],
    [
      "--server, --token and --insecure-skip-tls-verify replace the address, the credentials (certificate too) and the CA",
      { server: "https://other:443", token: "flag", insecureSkipTlsVerify: true },
      {
        server: "https://other:443",
        namespace: "team",
        insecureSkipTlsVerify: true,
        credential: { kind: "token", token: "flag" },
      },
    ],
  ])("%s", (_, overrides, expected) => {
    expect(clusterAccess(config, overrides)).toEqual(expected);
  });

  it.each<[string, Parameters<typeof clusterAccess>[0], AccessOverrides, string]>([
    ["an unknown --context", config, { context: "nope" }, 'context "nope" does not exist'],
    ["no contexts at all", parseKubeconfig("apiVersion: v1\n", "/"), {}, NO_CONFIGURATION],
    [
      "a current-context that is not there",
      parseKubeconfig("current-context: x\ncontexts: [{name: y, context: {cluster: c}}]", "/"),
      {},
      'context "x" does not exist',
    ],
    [
      "a context's cluster that is not there",
      config,
      { context: "lost" },
      'invalid configuration: cluster "gone" does not exist',
    ],
    [
      "a removed auth provider",
      config,
      { context: "gcp" },
      'invalid configuration: user "gcp".auth-provider: the gcp auth provider is not supported (kubectl removed it in v1.26); use an exec credential plugin',
    ],
  ])("refuses %s", (_, cfg, overrides, message) => {
    expect(() => clusterAccess(cfg, overrides)).toThrow(message);
  });
});

describe("parseKubeconfig", () => {
  it.each([
    ["a list that is not one", "clusters: {}", "clusters: expected a list"],
    ["an entry without a name", "users: [{user: {}}]", "users[0].name is missing"],
    [
      "a field of the wrong type",
      "clusters: [{name: c, cluster: {certificate-authority: 5}}]",
      "clusters[0].cluster.certificate-authority: expected a string, got 5",
    ],
    ["a top level that is not a mapping", "- a", "expected a mapping at the top level"],
  ])("refuses %s, naming the field", (_, text, message) => {
    expect(() => parseKubeconfig(text, "/")).toThrow(message);
  });

  it("reads JSON too (it is YAML)", () => {
    const parsed = parseKubeconfig(JSON.stringify({ clusters: [{ name: "c", cluster: { server: "http://x" } }] }), "/");
    expect(parsed.clusters.get("c")).toEqual({ server: "http://x" });
  });
});

describe("mergeKubeconfigs (KUBECONFIG=a:b)", () => {
  const a = parseKubeconfig("current-context: a\nclusters: [{name: shared, cluster: {server: https://a}}]", "/a");
  const b = parseKubeconfig(
    "current-context: b\nclusters: [{name: shared, cluster: {server: https://b}}, {name: only-b, cluster: {server: https://ob}}]",
    "/b",
  );
  it.each([
    ["the first file's entry of a name wins", [a, b], "shared", "https://a", "a"],
    ["entries only a later file has are kept", [a, b], "only-b", "https://ob", "a"],
    ["the first current-context wins", [b, a], "shared", "https://b", "b"],
  ])("%s", (_, configs, name, server, current) => {
    const merged = mergeKubeconfigs(configs);
    expect([merged.clusters.get(name)?.server, merged.currentContext]).toEqual([server, current]);
  });
});

describe("in-cluster and server-only configurations", () => {
  it.each([
    [
      "an IPv4 service address",
      { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
      "https://10.96.0.1:443",
    ],
    ["an IPv6 one, bracketed", { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" }, "https://[fd00::1]:6443"],
  ])("%s", (_, env, server) => {
    expect(clusterAccess(inClusterKubeconfig(env, "ramp-system\n"))).toEqual({
      server,
      namespace: "ramp-system",
      insecureSkipTlsVerify: false,
      ca: { file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
      credential: { kind: "tokenFile", file: "/var/run/secrets/kubernetes.io/serviceaccount/token" },
    });
  });

  it("--server alone is a cluster with no credentials", () => {
    expect(clusterAccess(serverOnly("http://127.0.0.1:8080"))).toEqual({
      server: "http://127.0.0.1:8080",
      insecureSkipTlsVerify: false,
      credential: { kind: "none" },
    });
  });
});

describe("parseExecCredential", () => {
  const plugin: ExecPlugin = { apiVersion: "client.authentication.k8s.io/v1", command: "aws", args: [], env: [] };
  const answer = (status: unknown, apiVersion = plugin.apiVersion) =>
    JSON.stringify({ apiVersion, kind: "ExecCredential", status });
  it.each([
    [
      "a token with its expiry",
      answer({ token: "t", expirationTimestamp: "2026-01-01T00:00:00Z" }),
      { token: "t", expiresAt: Date.parse("2026-01-01T00:00:00Z") },
    ],
    ["a token good until refused", answer({ token: "t" }), { token: "t" }],
    [
      "a client certificate",
      answer({ clientCertificateData: "C", clientKeyData: "K" }),
      { clientCert: Buffer.from("C"), clientKey: Buffer.from("K") },
    ],
  ])("%s", (_, stdout, expected) => {
    expect(parseExecCredential(stdout, plugin)).toEqual(expected);
  });

  it.each([
    ["output that is not JSON", "oops", "getting credentials: exec plugin aws: its output is not JSON"],
    [
      "another apiVersion",
      answer({ token: "t" }, "client.authentication.k8s.io/v1beta1"),
      "expected an ExecCredential of client.authentication.k8s.io/v1",
    ],
    ["no credential", answer({}), "status has neither a token nor clientCertificateData and clientKeyData"],
  ])("refuses %s", (_, stdout, message) => {
    expect(() => parseExecCredential(stdout, plugin)).toThrow(message);
  });
});
