import type { FunctionProps } from "sst/constructs";

/**
 * How every Lambda function is built and run (sst.config.ts `setDefaultFunctionProps`). The
 * cold-start benchmark and the bundle test (bench/bundle-options.ts) build with these same options.
 *
 * - minify: SST v2 does not minify by default; minified bundles load faster (graphql: 5.1 -> 1.3 MB).
 * - `@aws-sdk/*` external: the nodejs22.x runtime provides AWS SDK v3; bundling our own copy costs
 *   ~450 kB in every function. The DynamoDB retry strategy (@smithy/util-retry) stays bundled, so
 *   retries behave as chosen whatever SDK version the runtime has.
 */
export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm_64",
  nodejs: {
    format: "esm",
    minify: true,
    esbuild: { external: ["@aws-sdk/*"] },
  },
} as const satisfies FunctionProps;
