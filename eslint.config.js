// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // test/clients: client fixtures, compiled and type-checked by test/clients.test.ts with the clients' own tools.
  { ignores: ["node_modules/", ".sst/", ".data/", "dist/", "cdk.out/", ".build/", "test/clients/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    // Dependency rule (DESIGN.md section 2): functions -> graphql -> core -> infra. Nothing imports upward.
    files: ["core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["**/graphql/**", "graphql", "graphql-*", "@pothos/*"], message: "core/ knows no GraphQL" },
        { group: ["**/functions/**", "**/local/**", "**/stacks/**"], message: "core/ does not import upward" },
        { group: ["@aws-sdk/*"], message: "core/ reaches AWS through infra/ adapters" },
      ] }],
    },
  },
  {
    files: ["infra/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["**/core/**", "**/graphql/**", "**/functions/**", "**/local/**"], message: "infra/ is the bottom layer" },
      ] }],
    },
  },
  {
    files: ["graphql/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["**/functions/**", "**/local/**"], message: "graphql/ does not import upward" },
        { group: ["@aws-sdk/*"], message: "graphql/ reaches AWS through core/ and infra/" },
      ] }],
    },
  },
);
