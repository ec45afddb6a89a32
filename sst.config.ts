import type { SSTConfig } from "sst";
import { Api } from "./stacks/Api.js";
import { Data, isProductionStage } from "./stacks/Data.js";
import { FUNCTION_DEFAULTS } from "./stacks/function-defaults.js";
import { Jobs } from "./stacks/Jobs.js";
import { Monitoring } from "./stacks/Monitoring.js";
import { Webhooks } from "./stacks/Webhooks.js";

export default {
  config() {
    return {
      name: "channel-partner-api",
      // `sst deploy --region <r>` still overrides this default.
      region: "eu-west-1",
    };
  },
  stacks(app) {
    // Production data must survive `sst remove` and stack replacement; every other stage
    // (personal, preview, CI) is ephemeral and is torn down completely.
    app.setDefaultRemovalPolicy(isProductionStage(app.stage) ? "retain" : "destroy");
    // Every esbuild option of the defaults (keepNames, the graphql parser alias), with mutable copies.
    const { esbuild } = FUNCTION_DEFAULTS.nodejs;
    app.setDefaultFunctionProps({
      ...FUNCTION_DEFAULTS,
      nodejs: {
        ...FUNCTION_DEFAULTS.nodejs,
        esbuild: { ...esbuild, external: [...esbuild.external], alias: { ...esbuild.alias } },
      },
    });
    // Jobs before Api: the GraphQL function queues mail on the Jobs stack's mail queue, and test
    // events and redeliveries on the Webhooks stack's delivery queue.
    app.stack(Data).stack(Jobs).stack(Webhooks).stack(Api).stack(Monitoring);
  },
} satisfies SSTConfig;
