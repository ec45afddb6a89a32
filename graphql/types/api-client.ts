import { clientRoles } from "../../infra/entities/integration.js";
import { valuesOf } from "../enums.js";
import * as ApiClient from "../../core/api-client.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { globalId } from "../ids.js";
import { AccountRef } from "./account.js";

export const ApiClientRole = builder.enumType("ApiClientRole", {
  description:
    "The role an API client acts with on its account (as a member's role, without people or client management)",
  values: valuesOf(clientRoles, {
    OWNER: "Orders, manages services, settings and webhooks",
    CONTRIBUTOR: "Orders and manages services",
    VIEWER: "Reads only",
  }),
});

export const ApiClientStatus = builder.enumType("ApiClientStatus", {
  description: "Whether an API client may still get and use tokens",
  values: {
    ACTIVE: { description: "Gets tokens" },
    REVOKED: { description: "Revoked: its tokens stopped working" },
  } as const,
});

export const ApiClientRef = builder.objectRef<ApiClient.Info>("ApiClient");

builder.node(ApiClientRef, {
  description: "A machine identity of an account: OAuth 2.0 client credentials at POST /oauth/token",
  id: { resolve: (c) => c.clientId },
  loadWithoutCache: (id, ctx) => ApiClient.find(ctx.session, id),
  fields: (t) => ({
    clientId: t.exposeString("clientId", { description: "The client_id for POST /oauth/token" }),
    name: t.exposeString("name", { description: "The owners' name for it" }),
    role: t.field({ type: ApiClientRole, description: "The role it acts with", resolve: (c) => c.role }),
    seller: t.exposeBoolean("seller", {
      description: "Acts on the account's whole subtree for commercial work (partner accounts)",
    }),
    status: t.field({ type: ApiClientStatus, description: "ACTIVE or REVOKED", resolve: (c) => c.status }),
    createdAt: t.field({ type: "DateTime", description: "When it was created", resolve: (c) => c.createdAt }),
    lastUsedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Its latest token or request",
      resolve: (c) => c.lastUsedAt ?? null,
    }),
    previousSecretValidUntil: t.field({
      type: "DateTime",
      nullable: true,
      description: "After a rotation: until when the previous secret still works",
      resolve: (c) => c.previousValidUntil ?? null,
    }),
    revokedAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When it was revoked",
      resolve: (c) => c.revokedAt ?? null,
    }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  apiClients: t.connection({
    type: ApiClientRef,
    description: "The account's API clients (its OWNERs only)",
    resolve: async (a, args, ctx) => toConnection(await ApiClient.list(ctx.session, a.id, forward(args))),
  }),
}));

/** The global id of a client (for tests and payloads). */
export const apiClientGlobalId = (clientId: string) => globalId("ApiClient", clientId);
