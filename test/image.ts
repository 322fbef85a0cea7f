// Runs the controller image built by scripts/build-image.ts: with podman where the machine allows, else
// (sandboxes that refuse a runtime's rlimit set-up) the image's own root filesystem, unpacked from the
// OCI archive, under chroot as the image's user with the root mounted read-only — the same files and
// entrypoint, no host Node.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";

const run = promisify(execFile);

/** The parts of an OCI image config a runtime uses. */
export interface ImageRuntimeConfig {
  User: string;
  Entrypoint: string[];
  Cmd: string[];
  Env: string[];
  WorkingDir: string;
}

export interface ImageRunner {
  mode: "podman" | "chroot";
  /** Why podman was not used, when it was not. */
  reason?: string;
  config: ImageRuntimeConfig;
  /** The image's root filesystem on this machine (chroot mode). */
  rootfs: string;
  /** The host command running `argv` in the image, the kubeconfig readable at KUBECONFIG_IN_IMAGE. */
  command: (argv: string[]) => string[];
  /** The environment of the host command: the image's own in chroot mode. */
  env: NodeJS.ProcessEnv;
}

export const KUBECONFIG_IN_IMAGE = "/tmp/kubeconfig";

const blob = (layout: string, digest: string) => join(layout, "blobs", ...digest.split(":"));
const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8"));

/** Unpacks an OCI archive's single manifest into `dir`/rootfs; returns the image's config. */
async function unpack(archive: string, dir: string): Promise<{ rootfs: string; config: ImageRuntimeConfig; id: string }> {
  const layout = join(dir, "layout");
  const rootfs = join(dir, "rootfs");
  mkdirSync(layout, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  await run("tar", ["-xf", archive, "-C", layout]);
  const [entry] = readJson(join(layout, "index.json")).manifests as { digest: string }[];
  if (!entry) throw new Error(`${archive}: no manifest in index.json`);
  const manifest = readJson(blob(layout, entry.digest)) as { config: { digest: string }; layers: { digest: string }[] };
  for (const layer of manifest.layers) await run("tar", ["--same-owner", "-xpf", blob(layout, layer.digest), "-C", rootfs]);
  const id = manifest.config.digest.replace(/^sha256:/, "");
  return { rootfs, config: readJson(blob(layout, manifest.config.digest)).config, id };
}

/** A copy of the kubeconfig with the certificates inline, so it needs no other file of this machine. */
function selfContainedKubeconfig(kubeconfig: string, out: string): void {
  const inline = (o: Record<string, unknown>, key: string) => {
    const file = o[key];
    if (typeof file !== "string") return;
    o[`${key}-data`] = readFileSync(file).toString("base64");
    delete o[key];
  };
  const config = parse(readFileSync(kubeconfig, "utf8"));
  for (const { cluster } of config.clusters) inline(cluster, "certificate-authority");
  for (const { user } of config.users) {
    inline(user, "client-certificate");
    inline(user, "client-key");
  }
  writeFileSync(out, stringify(config), { mode: 0o644 });
}

// In a private mount namespace: the root bound onto itself read-only, a 1 MB tmpfs on /tmp holding
// only the kubeconfig, made read-only too; then the image's user in the chroot runs the command.
const CHROOT = `set -e
root=$1 kubeconfig=$2 user=$3; shift 3
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o size=1m,mode=0755 ramp-kubeconfig "$root/tmp"
cp "$kubeconfig" "$root${KUBECONFIG_IN_IMAGE}"
mount -o remount,ro "$root/tmp"
exec chroot --userspec="$user" "$root" "$@"`;

const SANDBOX_REFUSAL = /setrlimit|OCI permission denied|operation not permitted/i;

/** Unpacks the image into `dir` and chooses how to run it on this machine. */
export async function imageRunner(archive: string, kubeconfig: string, dir: string): Promise<ImageRunner> {
  const { rootfs, config, id } = await unpack(archive, dir);
  const kubeconfigFile = join(dir, "kubeconfig");
  selfContainedKubeconfig(kubeconfig, kubeconfigFile);
  const env = Object.fromEntries(config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  env.PATH ??= "/usr/sbin:/usr/bin:/sbin:/bin";
  const podman = (argv: string[]) => [
    "podman",
    "run",
    "--quiet",
    "--rm",
    "--network=host",
    "--read-only",
    "--read-only-tmpfs=false",
    "--user",
    config.User,
    "-v",
    `${kubeconfigFile}:${KUBECONFIG_IN_IMAGE}:ro`,
    "--entrypoint",
    JSON.stringify(argv.slice(0, 1)),
    `oci-archive:${archive}`,
    ...argv.slice(1),
  ];
  const chroot = (argv: string[]) => [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    CHROOT,
    "sh",
    rootfs,
    kubeconfigFile,
    config.User,
    ...argv,
  ];
  const [probe, ...probeArgs] = podman([...config.Entrypoint, "version"]);
  try {
    await run(probe as string, probeArgs);
    return { mode: "podman", config, rootfs, command: podman, env: process.env };
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    if (!SANDBOX_REFUSAL.test(stderr)) throw new Error(`podman could not run the image: ${stderr}`);
    // The probe stored the image in podman's storage; chroot runs the unpacked archive instead.
    await run("podman", ["rmi", "--force", id]).catch(() => {});
    return { mode: "chroot", reason: stderr.trim(), config, rootfs, command: chroot, env };
  }
}
