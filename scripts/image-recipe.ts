// What the controller image is made of, as data: the Dockerfile's final stage read into a recipe, the
// files distroless/cc would have given it, and the key the built archive is cached under. Pure: the
// build script (build-image.ts) does the I/O.
import { createHash } from "node:crypto";

export interface ImageConfig {
  /** "uid:gid", numeric, so a runtime can tell it is not root without reading /etc/passwd. */
  user: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

export interface Recipe {
  /** The Node version the Dockerfile's build stage is pinned to (ARG NODE_VERSION). */
  nodeVersion: string;
  /** The build stage's WORKDIR: COPY --from=build sources under it are the checkout's files. */
  buildWorkdir: string;
  copies: { from: string; to: string }[];
  config: ImageConfig;
}

interface Instruction {
  line: number;
  op: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(dockerfile: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { line: number; text: string } | undefined;
  dockerfile.split("\n").forEach((raw, i) => {
    const text = raw.trim();
    if (!pending && (text === "" || text.startsWith("#"))) return;
    const joined = pending ? `${pending.text} ${text}` : text;
    const line = pending?.line ?? i + 1;
    if (joined.endsWith("\\")) {
      pending = { line, text: joined.slice(0, -1).trimEnd() };
      return;
    }
    pending = undefined;
    const m = /^(\S+)\s*(.*)$/.exec(joined);
    if (m) out.push({ line, op: (m[1] ?? "").toUpperCase(), args: m[2] ?? "" });
  });
  return out;
}

const execForm = (ins: Instruction): string[] => {
  try {
    const value: unknown = JSON.parse(ins.args);
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) return value;
  } catch {}
  throw new Error(`Dockerfile:${ins.line}: ${ins.op} must be a JSON array of strings (exec form)`);
};

/**
 * The recipe of the Dockerfile's final stage. Only instructions the build script reproduces are
 * accepted, so a new one fails the script loudly instead of silently making two different images.
 */
export function parseDockerfile(dockerfile: string): Recipe {
  const args: Record<string, string> = {};
  const stages: { name?: string; workdir?: string; body: Instruction[] }[] = [];
  for (const ins of instructions(dockerfile)) {
    if (ins.op === "ARG" && stages.length === 0) {
      const [name, value] = ins.args.split("=", 2);
      if (name && value !== undefined) args[name] = value;
    } else if (ins.op === "FROM") {
      const name = /\bAS\s+(\S+)$/i.exec(ins.args)?.[1];
      stages.push(name ? { name, body: [] } : { body: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile:${ins.line}: ${ins.op} before any FROM`);
      if (ins.op === "WORKDIR") stage.workdir = ins.args;
      stage.body.push(ins);
    }
  }
  const final = stages.at(-1);
  const build = stages.find((s) => s.name === "build");
  if (!final || !build || final === build) throw new Error("Dockerfile: needs a stage `AS build` and a final stage after it");
  if (!build.workdir) throw new Error("Dockerfile: the build stage sets no WORKDIR");
  const nodeVersion = args.NODE_VERSION;
  if (!nodeVersion) throw new Error("Dockerfile: ARG NODE_VERSION=<version> must come before the first FROM");

  const copies: Recipe["copies"] = [];
  const config: ImageConfig = { user: "", workdir: "/", env: {}, entrypoint: [], cmd: [] };
  for (const ins of final.body) {
    switch (ins.op) {
      case "COPY": {
        const m = /^--from=build\s+(\S+)\s+(\S+)$/.exec(ins.args);
        if (!m?.[1] || !m[2]) throw new Error(`Dockerfile:${ins.line}: the final stage copies only \`--from=build SRC DEST\``);
        copies.push({ from: m[1], to: m[2] });
        break;
      }
      case "WORKDIR":
        config.workdir = ins.args;
        break;
      case "ENV":
        for (const pair of ins.args.split(/\s+/)) {
          const [name, value] = pair.split("=", 2);
          if (!name || value === undefined) throw new Error(`Dockerfile:${ins.line}: ENV takes NAME=value pairs`);
          config.env[name] = value;
        }
        break;
      case "USER":
        if (!/^\d+:\d+$/.test(ins.args)) throw new Error(`Dockerfile:${ins.line}: USER must be a numeric uid:gid`);
        config.user = ins.args;
        break;
      case "ENTRYPOINT":
        config.entrypoint = execForm(ins);
        break;
      case "CMD":
        config.cmd = execForm(ins);
        break;
      default:
        throw new Error(`Dockerfile:${ins.line}: build-image.ts does not reproduce ${ins.op} in the final stage`);
    }
  }
  if (!config.user) throw new Error("Dockerfile: the final stage sets no USER");
  if (config.entrypoint.length === 0) throw new Error("Dockerfile: the final stage sets no ENTRYPOINT");
  return { nodeVersion, buildWorkdir: build.workdir, copies, config };
}

/** Where a COPY --from=build source is on this machine: the pinned Node, or a file of the checkout. */
export function hostSource(from: string, recipe: Recipe, paths: { repo: string; node: string }): string {
  if (from === "/usr/local/bin/node") return paths.node;
  const prefix = `${recipe.buildWorkdir.replace(/\/$/, "")}/`;
  if (from.startsWith(prefix)) return `${paths.repo}/${from.slice(prefix.length)}`;
  throw new Error(`Dockerfile: build-image.ts does not know where ${from} of the build stage comes from`);
}

/** The shared libraries `ldd` lists, by absolute path (the vDSO has none). */
export function parseLdd(output: string): string[] {
  return output.split("\n").flatMap((line) => {
    if (/not found/.test(line)) throw new Error(`ldd: a library is missing: ${line.trim()}`);
    const path = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line)?.[1];
    return path ? [path] : [];
  });
}

/** /etc/passwd and /etc/group as distroless has them: root and the image's user, no login shell. */
export function accounts(user: string): { passwd: string; group: string; home: string } {
  const [uid, gid] = user.split(":");
  const home = "/home/nonroot";
  return {
    passwd: `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${uid}:${gid}:nonroot:${home}:/sbin/nologin\n`,
    group: `root:x:0:\nnonroot:x:${gid}:\n`,
    home,
  };
}

export interface ImageEntry {
  /** Absolute path in the image. */
  path: string;
  mode: number;
  /** sha256 of the content; "" for a directory. */
  digest: string;
}

/** The cache key: every file's path, mode and content, and the config, so any change rebuilds. */
export function imageKey(version: string, entries: ImageEntry[], config: ImageConfig): string {
  const hash = createHash("sha256").update(`${version}\n${JSON.stringify(config)}\n`);
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${e.path}\0${e.mode.toString(8)}\0${e.digest}\n`);
  }
  return hash.digest("hex").slice(0, 16);
}
