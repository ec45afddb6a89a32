import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module); Vite would pick the ESM copy for our sources while
    // Node loads the CJS copy for Pothos and Yoga: two realms. Pin one copy for everyone.
    alias: [
      { find: /^graphql$/, replacement: fileURLToPath(new URL("./node_modules/graphql/index.js", import.meta.url)) },
    ],
  },
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".sst/**", ".data/**"],
    globalSetup: ["./test/global-setup.ts"],
    // Generous: a two-core CI machine under load runs the longest scripted tests (90 PBX associations, cut-point
    // replays) several times slower than an idle one; a hung test still fails.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Test files wait on HTTP and DynamoDB Local (a Java process) most of the time: two files at once
    // keep both cores of the CI machine busy (vitest's default is one fewer worker than cores: 1 here).
    maxWorkers: 2,
    // Test files share their worker's module graph instead of re-importing the whole stack for each
    // file (import time 77 s -> 12 s of a run). Safe here: every file starts its own stack on its
    // own table, module state is keyed by table, and the few stubs (env, Math.random) are restored.
    isolate: false,
  },
});
