import type * as Audit from "../../core/audit.js";
import { builder } from "../builder.js";

export const AuditEventRef = builder.objectRef<Audit.Info>("AuditEvent").implement({
  description: "Who did what to an account, when",
  fields: (t) => ({
    id: t.exposeID("id"),
    at: t.field({ type: "DateTime", resolve: (e) => e.at }),
    action: t.exposeString("action", { description: "noun.pastVerb, e.g. account.created" }),
    actor: t.exposeString("actor", { description: "user:<email>, system:<job> or device:<id>" }),
    onBehalfOf: t.exposeString("onBehalfOf", { nullable: true }),
    subjectId: t.exposeString("subjectId", { nullable: true }),
    details: t.exposeString("details", { nullable: true, description: "JSON object describing the change" }),
  }),
});
