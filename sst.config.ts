import type { SSTConfig } from "sst";
import { Api } from "./stacks/Api.js";
import { Data, isProductionStage } from "./stacks/Data.js";
import { Jobs } from "./stacks/Jobs.js";

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
    app.setDefaultFunctionProps({
      runtime: "nodejs22.x",
      architecture: "arm_64",
      nodejs: { format: "esm" },
    });
    app.stack(Data).stack(Api).stack(Jobs);
  },
} satisfies SSTConfig;
