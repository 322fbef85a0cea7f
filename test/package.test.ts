// The package as users get it: packed into a tarball, installed globally into a temporary prefix,
// its `ramp` and `kubectl-ramp` run with no checkout and no TypeScript; and `./ramp` through a symlink.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cluster, eventually, namespace } from "./helpers.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
// npm and the installed bins start `node` from PATH: this Node first.
const ENV = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
const VERSION: string = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).version;

describe("the npm package", { timeout: 300_000 }, () => {
  let prefix: string;

  beforeAll(async () => {
    const work = await mkdtemp(join(tmpdir(), "ramp-package-"));
    // npm pack prints the prepack build's lines too: the tarball is the one file it writes there.
    await run("npm", ["pack", "--pack-destination", work], { cwd: ROOT, env: ENV });
    const [filename] = (await readdir(work)).filter((f) => f.endsWith(".tgz"));
    prefix = join(work, "prefix");
    await run(
      "npm",
      ["install", "-g", join(work, filename as string), "--prefix", prefix, "--no-audit", "--no-fund", "--offline"],
      {
        cwd: work,
        env: ENV,
      },
    );
  }, 300_000);

  it.each(["ramp", "kubectl-ramp"])("%s version prints the package's version", async (bin) => {
    const { stdout } = await run(join(prefix, "bin", bin), ["version"], { env: ENV });
    expect(stdout).toMatch(new RegExp(`^ramp ${VERSION.replaceAll(".", "\\.")} \\(API ramp\\.dev/v1alpha1, Node `));
  });

  it("ramp list from the installed package talks to the cluster", async () => {
    const ns = await namespace("pkg");
    const { stdout, stderr } = await run(join(prefix, "bin", "ramp"), ["list", "-n", ns, "--kubeconfig", cluster().kubeconfig], {
      env: ENV,
    });
    expect([stdout, stderr]).toEqual(["", `No resources found in ${ns} namespace.\n`]);
  });

  it("ramp dashboard from the installed package serves its bundled front end (dist/web, no esbuild)", async () => {
    const child = spawn(join(prefix, "bin", "ramp"), ["dashboard", "--port", "0", "--kubeconfig", cluster().kubeconfig], {
      env: ENV,
    });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    try {
      const url = await eventually("the dashboard's address", async () => /serving on (http:\/\/\S+) /.exec(output)?.[1], 60_000);
      const page = await (await fetch(url)).text();
      expect(page).toContain('<script type="module" src="/assets/main.js">');
      const script = await fetch(`${url}/assets/main.js`);
      expect([script.status, script.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
      expect((await script.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(`${url}/assets/main.css`)).status).toBe(200);
    } finally {
      child.kill();
    }
  });
});

it("./ramp runs through a symlink in another folder", async () => {
  const link = join(await mkdtemp(join(tmpdir(), "ramp-link-")), "ramp");
  await symlink(join(ROOT, "ramp"), link);
  const { stdout } = await run(link, ["version"], { env: ENV, cwd: tmpdir() });
  expect(stdout).toContain(`ramp ${VERSION} `);
});
