import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { accounts, hostSource, imageKey, parseDockerfile, parseLdd, type Recipe } from "./image-recipe.ts";

const repoFile = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), "utf8");

const dockerfile = (final: string) => `ARG NODE_VERSION=24.1.0
FROM node:\${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
RUN npm ci
FROM gcr.io/distroless/cc-debian12:nonroot
${final}`;

describe("parseDockerfile", () => {
  it("reads the project's Dockerfile: Node pinned as scripts/node-env.sh fetches it, user 65532, the CLI's controller", () => {
    const recipe = parseDockerfile(repoFile("Dockerfile"));
    const pinned = /^RAMP_NODE_VERSION=(\S+)$/m.exec(repoFile("scripts/node-env.sh"))?.[1];
    expect(recipe.nodeVersion).toBe(pinned);
    expect(recipe.config).toEqual({
      user: "65532:65532",
      workdir: "/app",
      env: { NODE_ENV: "production" },
      entrypoint: ["/usr/local/bin/node", "--max-semi-space-size=8", "/app/dist/cli/main.js"],
      cmd: ["controller"],
    });
    expect(recipe.copies.map((c) => c.to)).toEqual(["/usr/local/bin/node", "/app/package.json", "/app/dist"]);
  });

  it("joins continuation lines and skips comments", () => {
    const recipe = parseDockerfile(
      dockerfile(`# a comment
COPY --from=build /src/dist \\
  /app/dist
USER 1000:1000
ENTRYPOINT ["/node", \\
  "/app/main.js"]`),
    );
    expect(recipe.copies).toEqual([{ from: "/src/dist", to: "/app/dist" }]);
    expect(recipe.config.entrypoint).toEqual(["/node", "/app/main.js"]);
    expect(recipe.buildWorkdir).toBe("/src");
  });

  it.each([
    [
      "a RUN in the final stage",
      'RUN rm -rf /\nUSER 1:1\nENTRYPOINT ["/n"]',
      "Dockerfile:6: build-image.ts does not reproduce RUN",
    ],
    ["a COPY from the context", 'COPY dist /app/dist\nUSER 1:1\nENTRYPOINT ["/n"]', "copies only `--from=build SRC DEST`"],
    ["a named user", 'USER nonroot\nENTRYPOINT ["/n"]', "USER must be a numeric uid:gid"],
    ["no user", 'ENTRYPOINT ["/n"]', "sets no USER"],
    ["a shell-form entrypoint", "USER 1:1\nENTRYPOINT node main.js", "ENTRYPOINT must be a JSON array of strings"],
    ["no entrypoint", 'USER 1:1\nCMD ["controller"]', "sets no ENTRYPOINT"],
    ["an ENV without a value", 'ENV NODE_ENV\nUSER 1:1\nENTRYPOINT ["/n"]', "ENV takes NAME=value pairs"],
  ])("refuses %s", (_, final, message) => {
    expect(() => parseDockerfile(dockerfile(final))).toThrow(message);
  });

  it.each([
    ["no build stage", 'FROM scratch\nUSER 1:1\nENTRYPOINT ["/n"]', "needs a stage `AS build`"],
    ["no pinned Node", 'FROM node AS build\nWORKDIR /src\nFROM scratch\nUSER 1:1\nENTRYPOINT ["/n"]', "ARG NODE_VERSION"],
    ["a build stage without WORKDIR", "ARG NODE_VERSION=1\nFROM node AS build\nFROM scratch", "sets no WORKDIR"],
  ])("refuses %s", (_, text, message) => {
    expect(() => parseDockerfile(text)).toThrow(message);
  });
});

describe("hostSource", () => {
  const recipe = { buildWorkdir: "/src" } as Recipe;
  const paths = { repo: "/work/ramp", node: "/cache/node/bin/node" };
  it.each([
    ["/usr/local/bin/node", "/cache/node/bin/node"],
    ["/src/dist", "/work/ramp/dist"],
    ["/src/package.json", "/work/ramp/package.json"],
  ])("%s of the build stage is %s here", (from, expected) => {
    expect(hostSource(from, recipe, paths)).toBe(expected);
  });
  it("refuses a build-stage path it cannot map", () => {
    expect(() => hostSource("/usr/lib/libfoo.so", recipe, paths)).toThrow("does not know where /usr/lib/libfoo.so");
  });
});

describe("parseLdd", () => {
  it.each([
    ["the vDSO has no file", "\tlinux-vdso.so.1 (0x00007ffd)", []],
    [
      "a resolved library",
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f94b5000000)",
      ["/lib/x86_64-linux-gnu/libstdc++.so.6"],
    ],
    ["the loader", "\t/lib64/ld-linux-x86-64.so.2 (0x00007f94b536f000)", ["/lib64/ld-linux-x86-64.so.2"]],
  ])("%s", (_, output, expected) => {
    expect(parseLdd(output)).toEqual(expected);
  });
  it("refuses a missing library", () => {
    expect(() => parseLdd("\tlibfoo.so.1 => not found")).toThrow("a library is missing: libfoo.so.1 => not found");
  });
});

describe("accounts", () => {
  it("has root and the image's user with its group and home", () => {
    expect(accounts("65532:65533")).toEqual({
      passwd: "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65533:nonroot:/home/nonroot:/sbin/nologin\n",
      group: "root:x:0:\nnonroot:x:65533:\n",
      home: "/home/nonroot",
    });
  });
});

describe("imageKey", () => {
  const config = { user: "1:1", workdir: "/", env: {}, entrypoint: ["/n"], cmd: [] };
  const a = { path: "/a", mode: 0o644, digest: "aa" };
  const b = { path: "/b", mode: 0o755, digest: "bb" };
  const key = imageKey("1.0.0", [a, b], config);
  it.each([
    ["another version", imageKey("1.0.1", [a, b], config)],
    ["another content", imageKey("1.0.0", [a, { ...b, digest: "bc" }], config)],
    ["another mode", imageKey("1.0.0", [a, { ...b, mode: 0o644 }], config)],
    ["another path", imageKey("1.0.0", [a, { ...b, path: "/c" }], config)],
    ["another config", imageKey("1.0.0", [a, b], { ...config, user: "2:2" })],
  ])("changes with %s", (_, other) => {
    expect(other).not.toBe(key);
  });
  it("does not depend on the order files were found in", () => {
    expect(imageKey("1.0.0", [b, a], config)).toBe(key);
  });
});
