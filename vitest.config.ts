import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["src/**/*.test.ts", "scripts/**/*.test.ts", "bench/**/*.test.ts"] } },
      {
        test: {
          name: "cluster",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/setup/cluster.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
