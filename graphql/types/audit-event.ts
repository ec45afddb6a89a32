import * as Audit from "../../core/audit.js";
import { builder } from "../builder.js";
import { compositeId, compositeParts } from "../ids.js";

export const AuditEventRef = builder.objectRef<Audit.Info>("AuditEvent");

builder.node(AuditEventRef, {
  description: "Who did what to an account, when",
  id: { resolve: (e) => compositeId(e.accountId, e.at, e.id) },
  loadWithoutCache: (id, ctx) => {
    const p = compositeParts(id, 3);
    return p ? Audit.find(ctx.session, p[0]!, p[1]!, p[2]!) : undefined;
  },
  fields: (t) => ({
    at: t.field({ type: "DateTime", description: "When it happened", resolve: (e) => e.at }),
    action: t.exposeString("action", { description: "noun.pastVerb, e.g. account.created" }),
    actor: t.exposeString("actor", { description: "user:<email>, system:<job> or device:<id>" }),
    onBehalfOf: t.exposeString("onBehalfOf", {
      nullable: true,
      description: "The account the actor acted for, when it was not the actor's own (a seller or a partner admin)",
    }),
    subjectId: t.exposeString("subjectId", {
      nullable: true,
      description: "What the action was about (an e-mail, a sku, an equipment id), when not the account itself",
    }),
    details: t.exposeString("details", { nullable: true, description: "JSON object describing the change" }),
  }),
});
