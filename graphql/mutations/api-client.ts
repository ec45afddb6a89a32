import * as ApiClient from "../../core/api-client.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { ApiClientRef, ApiClientRole } from "../types/api-client.js";

const ClientWithSecret = builder
  .objectRef<{ client: ApiClient.Info; secret: string }>("ApiClientWithSecret")
  .implement({
    description:
      "A client and its secret, shown this once (only a digest is kept). A mutation result, not an entity: the client is the entity",
    fields: (t) => ({
      client: t.field({ type: ApiClientRef, description: "The client", resolve: (p) => p.client }),
      clientSecret: t.exposeString("secret", {
        description: "The client_secret: store it now, it is never shown again",
      }),
    }),
  });

const ClientPayload = builder.objectRef<{ client: ApiClient.Info }>("ApiClientPayload").implement({
  description: "The client after the change",
  fields: (t) => ({ client: t.field({ type: ApiClientRef, description: "The client", resolve: (p) => p.client }) }),
});

const ClientRefInput = builder.inputType("ApiClientRefInput", {
  description: "Which API client",
  fields: (f) => ({ clientId: f.globalID({ for: ApiClientRef, required: true, description: "The ApiClient's id" }) }),
});

builder.mutationField("createApiClient", (t) =>
  t.field({
    type: ClientWithSecret,
    description: "An account's OWNERs: a machine identity acting with a role (and seller flag) on the account",
    args: {
      input: t.arg({
        description: "The client to create",
        required: true,
        type: builder.inputType("CreateApiClientInput", {
          description: "A new API client",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, required: true, description: "Its account" }),
            name: f.string({ required: true, description: "A name for its owners (1-120 characters)" }),
            role: f.field({ type: ApiClientRole, required: true, description: "The role it acts with" }),
            seller: f.boolean({
              required: false,
              description: "Partner accounts: acts on the subtree for commercial work",
            }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) =>
      ApiClient.create(ctx.session, {
        accountId: input.accountId.id,
        name: input.name,
        role: input.role,
        seller: input.seller ?? false,
      }),
  }),
);

builder.mutationField("rotateApiClientSecret", (t) =>
  t.field({
    type: ClientWithSecret,
    description: "A new secret; the previous one keeps working for 24 hours or until revokePreviousApiClientSecret",
    args: { input: t.arg({ type: ClientRefInput, required: true, description: "The client" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ApiClient.rotateSecret(ctx.session, { clientId: input.clientId.id }),
  }),
);

builder.mutationField("revokePreviousApiClientSecret", (t) =>
  t.field({
    type: ClientPayload,
    description: "Ends a rotation's overlap now: the previous secret and its tokens stop working",
    args: { input: t.arg({ type: ClientRefInput, required: true, description: "The client" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      client: await ApiClient.revokePreviousSecret(ctx.session, {
        clientId: input.clientId.id,
      }),
    }),
  }),
);

builder.mutationField("revokeApiClient", (t) =>
  t.field({
    type: ClientPayload,
    description: "Revokes a client: its tokens stop working at their next request",
    args: { input: t.arg({ type: ClientRefInput, required: true, description: "The client" }) },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      client: await ApiClient.revoke(ctx.session, { clientId: input.clientId.id }),
    }),
  }),
);
