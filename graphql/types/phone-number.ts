import * as Numbers from "../../core/numbers.js";
import { DEFAULT_PAGE, MAX_PAGE } from "../../core/paging.js";
import { builder } from "../builder.js";
import { forward, toConnection } from "../connection.js";
import { valuesOf } from "../enums.js";
import { globalId } from "../ids.js";
import { AccountRef } from "./account.js";

export const NumberPortingState = builder.enumType("NumberPortingState", {
  description: "Where a number stands with the carrier",
  values: valuesOf(Numbers.portingStates, {
    NEW: "A new number, not in service yet",
    PORTING: "Being ported in from another carrier, on its portingDate",
    ACTIVE: "In service",
  }),
});

export const PhoneNumberRef = builder.objectRef<Numbers.Info>("PhoneNumber");

builder.node(PhoneNumberRef, {
  description:
    "A public number (E.164) of the inventory, in one account's pool at a time (EXPO.e Adding Numbers). Seen by those who see the account holding it",
  id: { resolve: (n) => n.number },
  loadWithoutCache: (id, ctx) => Numbers.find(ctx.session, id),
  fields: (t) => ({
    number: t.exposeString("number", { description: "The number, E.164 (+441632960001)" }),
    accountId: t.id({
      description: "The Account whose pool holds it",
      resolve: (n) => globalId("Account", n.holderId),
    }),
    state: t.field({ type: NumberPortingState, description: "Its porting state", resolve: (n) => n.state }),
    portingDate: t.field({
      type: "DateTime",
      nullable: true,
      description: "While PORTING: the porting date",
      resolve: (n) => n.portingDate ?? null,
    }),
    quarantinedUntil: t.field({
      type: "DateTime",
      nullable: true,
      description: "Released (or left by a deleted account): nobody takes it from this pool before then",
      resolve: (n) => n.quarantinedUntil ?? null,
    }),
    available: t.boolean({
      description: "Out of quarantine: it may be allocated, assigned to an extension or chosen as main number",
      resolve: (n, _a, ctx) => Numbers.available(n, ctx.session.now),
    }),
    addedAt: t.field({ type: "DateTime", description: "When an operator added it", resolve: (n) => n.addedAt }),
  }),
});

builder.objectFields(AccountRef, (t) => ({
  numbers: t.connection({
    type: PhoneNumberRef,
    description:
      "The account's number pool, in number order (quarantined numbers included). Anyone who sees the account",
    complexity: (args) => ({ field: 1, multiplier: Math.min(args.first ?? DEFAULT_PAGE, MAX_PAGE) }),
    args: {
      state: t.arg({ type: NumberPortingState, required: false, description: "Only numbers in this porting state" }),
    },
    resolve: async (a, args, ctx) =>
      toConnection(await Numbers.list(ctx.session, a.id, { ...forward(args), state: args.state ?? null })),
  }),
  mainNumber: t.string({
    nullable: true,
    description: "The business profile number: one of the account's pool (setMainNumber)",
    resolve: (a) => a.mainNumber ?? null,
  }),
}));
