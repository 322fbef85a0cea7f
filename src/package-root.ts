// Where Ramp's package lives on disk, from the sources (src/x/y.ts) or from the bundle (dist/cli/main.js,
// dist/chunk-*.js): the nearest directory above this module that holds package.json.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside Ramp's package (crds/, package.json, or in a checkout src/ and test/). */
export const packagePath = (relative: string): string => join(PACKAGE_ROOT, relative);
