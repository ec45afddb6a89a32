import type * as Audit from "../../core/audit.js";
import { builder } from "../builder.js";

export const AuditEventRef = builder.objectRef<Audit.Info>("AuditEvent").implement({
  description: "Who did what to an account, when",
  fields: (t) => ({
    id: t.exposeID("id", { description: "The event's id" }),
    at: t.field({ type: "DateTime", description: "When it happened", resolve: (e) => e.at }),
    action: t.exposeString("action", { description: "noun.pastVerb, e.g. account.created" }),
    actor: t.exposeString("actor", { description: "user:<email>, system:<job> or device:<id>" }),
    onBehalfOf: t.exposeString("onBehalfOf", { nullable: true, description: "The account the actor acted for, when it was not the actor's own (a seller or a partner admin)" }),
    subjectId: t.exposeString("subjectId", { nullable: true, description: "What the action was about (an e-mail, a sku, an equipment id), when not the account itself" }),
    details: t.exposeString("details", { nullable: true, description: "JSON object describing the change" }),
  }),
});
