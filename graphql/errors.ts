import { Conflict, Forbidden, Invalid, NotFound } from "../core/errors.js";
import type { Issue , VisibleError } from "../core/errors.js";
import { builder } from "./builder.js";

/** The interface every typed error result implements: a stable code and a readable message. */
export const ErrorInterface = builder.interfaceRef<VisibleError>("Error").implement({
  fields: (t) => ({
    code: t.exposeString("code"),
    message: t.exposeString("message"),
  }),
});

builder.objectType(NotFound, { name: "NotFoundError", interfaces: [ErrorInterface], isTypeOf: (v) => v instanceof NotFound, fields: () => ({}) });
builder.objectType(Forbidden, { name: "ForbiddenError", interfaces: [ErrorInterface], isTypeOf: (v) => v instanceof Forbidden, fields: () => ({}) });
builder.objectType(Conflict, { name: "ConflictError", interfaces: [ErrorInterface], isTypeOf: (v) => v instanceof Conflict, fields: () => ({}) });

const IssueRef = builder.objectRef<Issue>("ValidationIssue").implement({
  fields: (t) => ({
    path: t.exposeStringList("path", { description: "Path of the offending field within the input, e.g. [\"owner\", \"email\"]" }),
    message: t.exposeString("message"),
  }),
});

builder.objectType(Invalid, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof Invalid,
  fields: (t) => ({
    issues: t.field({ type: [IssueRef], resolve: (e) => [...e.issues] }),
  }),
});
