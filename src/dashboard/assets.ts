// The dashboard's front end (web/): from the sources, bundled on demand with esbuild in memory, so a
// checkout serves what it has and no generated file is checked in; from the installed package, the
// bundle `npm run build` wrote to dist/web/. Either way every script and style is served by the
// dashboard itself: the page fetches nothing from the internet.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildOptions } from "esbuild";
import { packagePath } from "../package-root.ts";

export type Assets = Map<string, { type: string; body: Buffer }>;

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  map: "application/json",
  woff2: "font/woff2",
};
const typeOf = (file: string) => TYPES[file.split(".").at(-1) ?? ""] ?? "application/octet-stream";

export const WEB_ENTRY = "web/main.tsx";
export const WEB_OUTDIR = "dist/web";

/** esbuild's options for the front end: one script and one stylesheet, minified. */
export const webBuildOptions: BuildOptions = {
  entryPoints: [WEB_ENTRY],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]",
  legalComments: "none",
  logLevel: "warning",
};

// Running from the sources (src/dashboard/assets.ts) or from the bundle (dist/chunks/*.js).
const FROM_SOURCES = import.meta.url.endsWith(".ts");

export async function loadAssets(): Promise<Assets> {
  const assets: Assets = new Map();
  if (FROM_SOURCES) {
    // esbuild is a devDependency: a checkout has it, the installed package never comes here.
    const esbuild = "esbuild";
    const { build } = (await import(esbuild)) as typeof import("esbuild");
    const result = await build({ ...webBuildOptions, absWorkingDir: packagePath("."), outdir: "out", write: false });
    for (const file of result.outputFiles ?? []) {
      const name = file.path.split("/").at(-1) ?? file.path;
      assets.set(name, { type: typeOf(name), body: Buffer.from(file.contents) });
    }
    return assets;
  }
  const dir = packagePath(WEB_OUTDIR);
  if (!existsSync(dir)) throw new Error(`the dashboard's front end is missing: no ${dir} (npm run build makes it)`);
  for (const name of readdirSync(dir)) assets.set(name, { type: typeOf(name), body: readFileSync(join(dir, name)) });
  return assets;
}

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ramp dashboard</title>
<link rel="stylesheet" href="/assets/main.css">
<script type="module" src="/assets/main.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
