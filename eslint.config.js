// @ts-check
import js from "@eslint/js";
import graphql from "@graphql-eslint/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // test/clients: client fixtures, compiled and type-checked by test/clients.test.ts with the clients' own tools.
  { ignores: ["node_modules/", ".sst/", ".data/", "dist/", "cdk.out/", ".build/", "test/clients/"] },
  { ...js.configs.recommended, files: ["**/*.{js,ts}"] },
  ...tseslint.configs.recommended.map((c) => ({ ...c, files: ["**/*.{js,ts}"] })),
  {
    files: ["**/*.{js,ts}"],
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
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/graphql/**", "graphql", "graphql-*", "@pothos/*"], message: "core/ knows no GraphQL" },
            { group: ["**/functions/**", "**/local/**", "**/stacks/**"], message: "core/ does not import upward" },
            { group: ["@aws-sdk/*"], message: "core/ reaches AWS through infra/ adapters" },
          ],
        },
      ],
    },
  },
  {
    files: ["infra/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/core/**", "**/graphql/**", "**/functions/**", "**/local/**"],
              message: "infra/ is the bottom layer",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["graphql/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/functions/**", "**/local/**"], message: "graphql/ does not import upward" },
            { group: ["@aws-sdk/*"], message: "graphql/ reaches AWS through core/ and infra/" },
          ],
        },
      ],
    },
  },
  {
    // The public schema as integrators' tools read it (issue: a schema real clients accept without warnings).
    files: ["schema.graphql"],
    languageOptions: { parser: graphql.parser, parserOptions: { graphQLConfig: { schema: "schema.graphql" } } },
    plugins: { "@graphql-eslint": graphql },
    rules: {
      ...graphql.configs["flat/schema-recommended"].rules,
      ...graphql.configs["flat/schema-relay"].rules,
      // Every type, field, argument, enum value and input field says what it is, not only the types and root fields.
      "@graphql-eslint/require-description": [
        "error",
        {
          types: true,
          rootField: true,
          FieldDefinition: true,
          InputValueDefinition: true,
          EnumValueDefinition: true,
          DirectiveDefinition: true,
        },
      ],
      // As recommended, except that `ServerType` keeps its name: "server type" is the PBX vendors' own word for the model.
      "@graphql-eslint/naming-convention": [
        "error",
        {
          ...graphql.configs["flat/schema-recommended"].rules["@graphql-eslint/naming-convention"][1],
          "ObjectTypeDefinition,ObjectTypeExtension": {
            forbiddenPrefixes: ["Type"],
            forbiddenSuffixes: ["Type"],
            ignorePattern: "^ServerType$",
          },
        },
      ],
      // Off for one field: `Event.eventId` is the webhook-id of the event's deliveries (Standard Webhooks), named
      // so it is not mistaken for the global `id` beside it.
      "@graphql-eslint/no-typename-prefix": "off",
      // Lists page forward only (`first`/`after`); `last`/`before` are not offered rather than refused at run time.
      "@graphql-eslint/relay-arguments": ["error", { includeBoth: false }],
      // Short bounded lists (an order's lines, breadcrumbs, a viewer's memberships, validation issues) are plain
      // lists, not connections; every connection's edge still wraps a Node.
      "@graphql-eslint/relay-edge-types": [
        "error",
        { listTypeCanWrapOnlyEdgeType: false, shouldImplementNode: true, withEdgeSuffix: true },
      ],
      // Types without an `id` are not entities: connection plumbing, mutation results and errors by suffix, and the
      // value types listed here, each of which says in its description why it has no id.
      "@graphql-eslint/strict-id-in-types": [
        "error",
        {
          acceptedIdNames: ["id"],
          acceptedIdTypes: ["ID"],
          exceptions: {
            suffixes: ["Connection", "Edge", "Payload", "Success", "Error"],
            types: [
              "PageInfo",
              "Money",
              "Viewer",
              "Membership",
              "OrderLine",
              "OrderPreview",
              "LicenceUsage",
              "LicenceSubscriptionOverview",
              "ValidationIssue",
              "ServerType",
              "UsageRecord",
              "ApiClientWithSecret",
              "WebhookEndpointWithSecret",
              "BillingDetails",
              "LicenceSubscriptionChangePreview",
              "TrialConversionPreview",
              "EquipmentActivationFailure",
            ],
          },
        },
      ],
    },
  },
);
