// Helpers for tests on the shared dev cluster.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { inject } from "vitest";
import { KubeClient } from "../src/kube/client.ts";
import { OutboundDoor } from "../src/net/outbound.ts";

export const cluster = () => inject("cluster");

export const kube = () => new KubeClient({ kubeconfig: cluster().kubeconfig, fieldManager: "ramp-test" });

/** A fresh namespace for one test. */
export async function namespace(prefix = "t"): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await kube().create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

/** Polls until `check` returns a value that is not undefined/false. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

/** The outbound door of in-process providers in tests: their receivers and Prometheus are on loopback. */
export const loopbackDoor = new OutboundDoor({ allow: [], deny: [], allowLoopback: true, apiserver: [] });
