// Builds the controller image from scratch with buildah — no daemon, no registry, no base image to
// pull — and writes it as an OCI archive. The Dockerfile's final stage is the recipe (image-recipe.ts);
// what its distroless/cc base provides (glibc and the other libraries Node links, CA certificates,
// /etc/passwd with the nonroot user, /tmp) is taken from this Debian machine.
//
//   node scripts/build-image.ts [--output FILE]
//
// The archive is cached in ~/.cache/ramp/image under a key over every file and the config: a warm run
// with an unchanged build reuses it. Needs root (apt-get install buildah, buildah mount); x86-64 only,
// like the Node binary the project fetches.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ensureDebianPackages } from "../src/dev/apt.ts";
import { cacheRoot } from "../src/dev/cluster.ts";
import { accounts, hostSource, type ImageEntry, imageKey, parseDockerfile, parseLdd } from "./image-recipe.ts";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "..");
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

export interface BuiltImage {
  /** The OCI archive (`podman load -i`, `skopeo copy oci-archive:...`). */
  archive: string;
  /** repository:tag inside the archive. */
  reference: string;
  key: string;
  archiveBytes: number;
  /** Bytes of the files in the image, uncompressed. */
  rootfsBytes: number;
  seconds: number;
  reused: boolean;
}

/** One path of the image and where its content comes from. */
type Staged = ImageEntry & { owner?: number } & ({ source: string } | { data: string } | { dir: true });

const sha256 = (content: Buffer | string) => createHash("sha256").update(content).digest("hex");

function fileEntry(path: string, source: string, mode?: number): Staged {
  return { path, source, mode: mode ?? statSync(source).mode & 0o7777, digest: sha256(readFileSync(source)) };
}

/** A file, or a folder with everything under it, copied from this machine to `to`. */
function copyTree(source: string, to: string): Staged[] {
  if (!statSync(source).isDirectory()) return [fileEntry(to, source)];
  return [
    { path: to, mode: 0o755, digest: "", dir: true },
    ...readdirSync(source).flatMap((name) => copyTree(join(source, name), `${to}/${name}`)),
  ];
}

async function pinnedNode(): Promise<string> {
  const { stdout } = await run("bash", ["-c", `. "${REPO}/scripts/node-env.sh" && ramp_pinned_node`]);
  return join(stdout.trim(), "node");
}

/** Every path of the image with its content, and the config, from the Dockerfile and this machine. */
async function stage() {
  const recipe = parseDockerfile(readFileSync(join(REPO, "Dockerfile"), "utf8"));
  const node = await pinnedNode();
  const { stdout: nodeVersion } = await run(node, ["--version"]);
  if (nodeVersion.trim() !== `v${recipe.nodeVersion}`) {
    throw new Error(`Dockerfile pins Node ${recipe.nodeVersion} but scripts/node-env.sh fetches ${nodeVersion.trim()}`);
  }
  const { stdout: ldd } = await run("ldd", [node]);
  const user = accounts(recipe.config.user);
  const [uid] = recipe.config.user.split(":").map(Number);
  const entries: Staged[] = [
    ...parseLdd(ldd).map((lib) => fileEntry(lib, realpathSync(lib), 0o755)),
    fileEntry(CA_BUNDLE, CA_BUNDLE, 0o644),
    { path: "/etc/passwd", mode: 0o644, data: user.passwd, digest: sha256(user.passwd) },
    { path: "/etc/group", mode: 0o644, data: user.group, digest: sha256(user.group) },
    { path: "/etc/nsswitch.conf", mode: 0o644, data: "hosts: files dns\n", digest: sha256("hosts: files dns\n") },
    { path: "/tmp", mode: 0o1777, digest: "", dir: true },
    { path: user.home, mode: 0o700, digest: "", dir: true, ...(uid === undefined ? {} : { owner: uid }) },
    ...recipe.copies.flatMap((c) => copyTree(hostSource(c.from, recipe, { repo: REPO, node }), c.to)),
  ];
  return { recipe, entries };
}

/** Writes the staged paths under the container's mount point. */
function populate(root: string, entries: Staged[]): void {
  for (const e of entries) {
    const target = join(root, e.path);
    mkdirSync(dirname(target), { recursive: true });
    if ("dir" in e) mkdirSync(target, { recursive: true });
    else if ("source" in e) copyFileSync(e.source, target);
    else writeFileSync(target, e.data);
    chmodSync(target, e.mode);
    if (e.owner !== undefined) chownSync(target, e.owner, e.owner);
  }
}

/** Archives of other builds untouched for an hour: another checkout may still be using a newer one. */
function prune(dir: string, keep: string): void {
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (file !== keep && /^ramp-.*\.oci\.tar/.test(name) && Date.now() - statSync(file).mtimeMs > 3_600_000) rmSync(file);
  }
}

export async function buildImage(log: (line: string) => void = () => {}): Promise<BuiltImage> {
  const started = Date.now();
  await ensureDebianPackages(["/usr/bin/buildah", "/usr/bin/podman", CA_BUNDLE], ["buildah", "podman", "ca-certificates"], log);
  await run("npm", ["run", "build", "--silent"], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  const version = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version as string;
  const { recipe, entries } = await stage();
  const key = imageKey(version, entries, recipe.config);
  const dir = join(cacheRoot(), "image");
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, `ramp-${version}-${key}.oci.tar`);
  const reference = `ramp:${version}`;
  const rootfsBytes = entries.reduce((sum, e) => sum + ("source" in e ? statSync(e.source).size : 0), 0);
  const reused = existsSync(archive);
  if (reused) {
    const now = new Date();
    utimesSync(archive, now, now);
  } else {
    log(`building ${reference} (${key}) with buildah`);
    const { stdout } = await run("buildah", ["from", "--quiet", "scratch"]);
    const container = stdout.trim();
    const partial = `${archive}.${process.pid}.partial`;
    try {
      const { stdout: mount } = await run("buildah", ["mount", container]);
      populate(mount.trim(), entries);
      const { config } = recipe;
      await run("buildah", [
        "config",
        "--user",
        config.user,
        "--workingdir",
        config.workdir,
        ...Object.entries(config.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
        "--entrypoint",
        JSON.stringify(config.entrypoint),
        "--cmd",
        JSON.stringify(config.cmd),
        "--label",
        `org.opencontainers.image.title=ramp`,
        "--label",
        `org.opencontainers.image.version=${version}`,
        container,
      ]);
      await run("buildah", ["commit", "--quiet", "--format", "oci", container, `oci-archive:${partial}:${reference}`]);
      renameSync(partial, archive);
    } finally {
      rmSync(partial, { force: true });
      await run("buildah", ["rm", container]).catch(() => {});
    }
  }
  prune(dir, archive);
  const seconds = (Date.now() - started) / 1000;
  return { archive, reference, key, archiveBytes: statSync(archive).size, rootfsBytes, seconds, reused };
}

if (import.meta.main) {
  const [flag, output] = process.argv.slice(2);
  if (flag !== undefined && (flag !== "--output" || !output)) {
    console.error("usage: node scripts/build-image.ts [--output FILE]");
    process.exit(2);
  }
  try {
    const image = await buildImage((line) => console.error(line));
    if (output) copyFileSync(image.archive, output);
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.log(
      `${image.reference} ${image.reused ? "reused" : "built"} in ${image.seconds.toFixed(1)} s: ${output ?? image.archive}, ` +
        `${mb(image.archiveBytes)} archive, ${mb(image.rootfsBytes)} of files`,
    );
  } catch (err) {
    console.error(`build-image: ${(err as Error).message}`);
    process.exit(1);
  }
}
