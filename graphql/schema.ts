import { lexicographicSortSchema, printSchema } from "graphql";
import { builder } from "./builder.js";
import "./errors.js";
import "./types/account.js";
import "./types/member.js";
import "./types/audit-event.js";
import "./types/viewer.js";
import "./types/money.js";
import "./types/offer.js";
import "./types/subscription.js";
import "./types/order.js";
import "./types/invoice.js";
import "./types/partner-admin.js";
import "./types/equipment.js";
import "./types/api-client.js";
import "./types/event.js";
import "./types/trial.js";
import "./types/equipment-upkeep.js";
import "./types/webhook.js";
import "./types/ticket.js";
import "./types/phone-number.js";
import "./mutations/account.js";
import "./mutations/member.js";
import "./mutations/catalog.js";
import "./mutations/order.js";
import "./mutations/subscription.js";
import "./mutations/billing.js";
import "./mutations/partner-admin.js";
import "./mutations/equipment.js";
import "./mutations/api-client.js";
import "./mutations/trial.js";
import "./mutations/equipment-upkeep.js";
import "./mutations/webhook.js";
import "./mutations/ticket.js";
import "./mutations/numbers.js";

/** The executable schema (with the public conventions of ./conventions.ts); built once per process. */
export const schema = builder.toSchema({ sortSchema: false });

/** The SDL integrators code against (schema.graphql). */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
