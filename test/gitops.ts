// What GitOps tools conclude from a Rollout, computed by their own code where it runs outside them:
// kstatus (Flux, kpt) by sigs.k8s.io/cli-utils built from the Go module proxy, and Argo CD's health
// check, deploy/argocd/health.lua, by Debian's Lua interpreter. Also a recorder of every version of a
// Rollout the apiserver serves, to judge each one.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { ensureDebianPackages } from "../src/dev/apt.ts";
import { goTool } from "../src/dev/cluster.ts";
import { kube } from "./helpers.ts";
import type { RolloutObj } from "./rollouts.ts";

const run = promisify(execFile);
const LUA = "/usr/bin/lua5.4";
const HEALTH_LUA = join(import.meta.dirname, "../deploy/argocd/health.lua");

/** Builds the kstatus oracle (first time: a couple of minutes) and installs lua5.4 (needs root). */
export async function ensureGitopsTools(): Promise<void> {
  await Promise.all([goTool("kstatus"), ensureDebianPackages([LUA], ["lua5.4"], (l) => console.error(l))]);
}

/** Feeds `input` to a command's standard input; resolves with its standard output. */
async function pipe(command: string, args: string[], input: string): Promise<string> {
  const child = run(command, args, { maxBuffer: 16 * 1024 * 1024 });
  child.child.stdin?.end(input);
  return (await child).stdout;
}

export interface KstatusResult {
  Status: "InProgress" | "Current" | "Failed" | "Terminating" | "NotFound" | "Unknown";
  Message: string;
  Conditions: { type: string; status: string; reason?: string; message?: string }[] | null;
}

/** kstatus' status.Compute of the object, from the real library. */
export async function kstatus(obj: object): Promise<KstatusResult> {
  return JSON.parse(await pipe(await goTool("kstatus"), [], JSON.stringify(obj)));
}

/** A JSON value as a Lua table constructor, the way Argo CD hands `obj` to a health script: objects
 * are tables by key, arrays sequences from 1, null is nil. Strings are their UTF-8 bytes, escaped as `\ddd` unless printable ASCII. */
function luaValue(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "string") {
    const bytes = [...Buffer.from(v, "utf8")];
    const safe = (b: number) => b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c;
    return `"${bytes.map((b) => (safe(b) ? String.fromCharCode(b) : `\\${String(b).padStart(3, "0")}`)).join("")}"`;
  }
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `{${v.map(luaValue).join(", ")}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `[${luaValue(k)}] = ${luaValue(x)}`)
    .join(", ")}}`;
}

/** Sets the global `obj`, runs the health script as Argo CD does (its chunk returns the table), and
 * prints that table as JSON (string values: status and message). */
const harness = (obj: object) => `
obj = ${luaValue(obj)}
local hs = dofile(${luaValue(HEALTH_LUA)})
local function str(s)
  return '"' .. (string.gsub(s, '[%c"\\\\]', function(c) return string.format("\\\\u%04x", string.byte(c)) end)) .. '"'
end
local parts = {}
for k, v in pairs(hs) do parts[#parts + 1] = str(tostring(k)) .. ":" .. str(tostring(v)) end
table.sort(parts)
print("{" .. table.concat(parts, ",") .. "}")
`;

export interface ArgoHealth {
  status: "Healthy" | "Progressing" | "Degraded" | "Suspended" | "Missing" | "Unknown";
  message?: string;
}

/** What deploy/argocd/health.lua returns for the object, run by lua5.4. */
export async function argoHealth(obj: object): Promise<ArgoHealth> {
  return JSON.parse(await pipe(LUA, ["-"], harness(obj)));
}

/** Records every version of one Rollout the apiserver serves, from a watch started before it exists. */
export function recordRollout(ns: string, name: string): { versions: RolloutObj[]; stop: () => Promise<void> } {
  const versions: RolloutObj[] = [];
  const abort = new AbortController();
  const loop = (async () => {
    let rv: string | undefined;
    while (!abort.signal.aborted) {
      const path = `/apis/ramp.dev/v1alpha1/namespaces/${ns}/rollouts?watch=1&fieldSelector=metadata.name%3D${name}${rv ? `&resourceVersion=${rv}` : ""}`;
      await kube()
        .watch(
          path,
          (e) => {
            if (e.type === "ERROR") rv = undefined; // e.g. 410 Gone: watch again from now
            if (e.type !== "ADDED" && e.type !== "MODIFIED") return;
            rv = e.object.metadata.resourceVersion as string | undefined;
            versions.push(e.object as RolloutObj);
          },
          abort.signal,
        )
        .catch(() => sleep(200)); // failed or aborted: go on from the last version seen
    }
  })();
  return {
    versions,
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}
