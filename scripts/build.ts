// `npm run build`: bundles the CLI into dist/ with esbuild. One bundle instead of the sources because
// Node then neither strips types (it refuses to under node_modules, so an installed package could not
// run .ts at all) nor resolves and reads hundreds of dependency modules at start-up. Code splitting
// keeps each command's dynamic import() its own chunk, so `ramp promote` loads no controller code.
// Runtime dependencies are bundled too: the package installs nothing and the image needs no node_modules.
import { chmodSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { WEB_OUTDIR, webBuildOptions } from "../src/dashboard/assets.ts";
import { packagePath } from "../src/package-root.ts";

const outdir = packagePath("dist");
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: packagePath("."),
  entryPoints: ["src/cli/main.ts"],
  outbase: "src",
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22.19",
  chunkNames: "chunks/[name]-[hash]",
  // Bundled CommonJS dependencies (fastify, pino, prom-client) call require() for Node's built-ins.
  banner: { js: 'import { createRequire as __rampRequire } from "node:module"; const require = __rampRequire(import.meta.url);' },
  legalComments: "linked",
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
});
// The dashboard's front end, served by `ramp dashboard` from dist/web.
const web = await build({ ...webBuildOptions, absWorkingDir: packagePath("."), outdir: packagePath(WEB_OUTDIR), metafile: true });
chmodSync(packagePath("dist/cli/main.js"), 0o755);
const outputs = { ...result.metafile.outputs, ...web.metafile?.outputs };
const bytes = Object.values(outputs).reduce((sum, o) => sum + (o.bytes ?? 0), 0);
console.log(`dist/: ${Object.keys(outputs).length} files, ${(bytes / 1e6).toFixed(1)} MB`);
