import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module); Vite would pick the ESM copy for our sources while
    // Node loads the CJS copy for Pothos and Yoga: two realms. Pin one copy for everyone.
    alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL("./node_modules/graphql/index.js", import.meta.url)) }],
  },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".sst/**", ".data/**"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
