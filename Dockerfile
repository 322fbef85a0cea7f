# Ramp's controller image. scripts/build-image.ts builds the same image without a daemon or a registry
# (buildah from scratch): it reads this file's final stage and reproduces each instruction, so the
# files, user, entrypoint and command cannot drift apart.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# distroless/cc: glibc, libgcc, libstdc++, CA certificates and a nonroot user (65532), no shell and no
# package manager; Node's official binary needs nothing more. node:slim would add a shell, apt and
# npm (~150 MB more, and more to patch) that the controller never runs.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /src/package.json /app/package.json
COPY --from=build /src/dist /app/dist
WORKDIR /app
ENV NODE_ENV=production
USER 65532:65532
# A young generation of 2x8 MiB instead of Node 24's 2x32: a burst of reconciles (every rollout at
# once) no longer grows the process by up to 48 MiB of short-lived objects (bench/rollouts.ts).
ENTRYPOINT ["/usr/local/bin/node", "--max-semi-space-size=8", "/app/dist/cli/main.js"]
CMD ["controller"]
