// `ramp version`
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { API_VERSION } from "../api/group.ts";
import { packagePath } from "../package-root.ts";

export const VERSION: string = JSON.parse(readFileSync(packagePath("package.json"), "utf8")).version;

export function registerVersion(program: Command): void {
  program
    .command("version")
    .description("print Ramp's version and API version")
    .action(() => console.log(`ramp ${VERSION} (API ${API_VERSION}, Node ${process.versions.node})`));
}
