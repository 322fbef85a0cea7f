// Debian packages the dev cluster and the image build need, installed with apt when missing.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Debian's Chromium, which the dashboard's browser test drives (playwright-core brings no browser),
 * with a font for the text it renders. */
export const CHROMIUM = { binary: "/usr/bin/chromium", packages: ["chromium", "fonts-dejavu-core"] };

/** Installs `packages` unless every binary exists (needs root); a package's service is not started. */
export async function ensureDebianPackages(binaries: string[], packages: string[], log: (line: string) => void): Promise<void> {
  if (binaries.every((b) => existsSync(b))) return;
  log(`installing ${packages.join(", ")} from Debian (apt-get install)`);
  const policy = "/usr/sbin/policy-rc.d";
  const blockServices = !existsSync(policy);
  // policy-rc.d keeps a package from starting its service (Prometheus on every interface, podman's socket).
  const script = `${blockServices ? `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod +x ${policy} && ` : ""}(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages.join(" ")}); rc=$?; ${blockServices ? `rm -f ${policy}; ` : ""}exit $rc`;
  try {
    await run("bash", ["-c", script], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new Error(
      `could not install ${packages.join(", ")} (needs root and Debian's apt): ${(err as { stderr?: string }).stderr ?? err}`,
    );
  }
}
