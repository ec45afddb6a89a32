import type { AccountRecord } from "../../infra/store.js";
import * as Numbers from "../../core/numbers.js";
import { builder } from "../builder.js";
import { AccountRef } from "../types/account.js";
import { NumberPortingState, PhoneNumberRef } from "../types/phone-number.js";

const NumbersPayload = builder
  .objectRef<{ account: AccountRecord; numbers: Numbers.Info[] }>("NumbersPayload")
  .implement({
    description: "The account whose pool changed, and the numbers as the change left them",
    fields: (t) => ({
      account: t.field({ type: AccountRef, description: "The account", resolve: (p) => p.account }),
      numbers: t.field({
        type: [PhoneNumberRef],
        description: "The numbers, in the order given",
        resolve: (p) => p.numbers,
      }),
    }),
  });

const NumberRangeInput = builder.inputType("NumberRangeInput", {
  description: "Consecutive numbers, both ends included, with the same number of digits",
  fields: (t) => ({
    first: t.string({ required: true, description: "The first number, E.164" }),
    last: t.string({ required: true, description: "The last number, E.164" }),
  }),
});

builder.mutationField("addNumbers", (t) =>
  t.field({
    type: NumbersPayload,
    description: `Operators: add numbers to a partner's pool (a list and/or ranges, at most ${Numbers.MAX_ADD} a call), all or nothing: a number already in the inventory refuses the call`,
    args: {
      input: t.arg({
        required: true,
        description: "The operation's fields",
        type: builder.inputType("AddNumbersInput", {
          description: "Numbers for a partner's pool",
          fields: (f) => ({
            accountId: f.globalID({
              for: AccountRef,
              required: true,
              description: "The partner's Account id (distributor or reseller)",
            }),
            numbers: f.stringList({ required: false, description: "Numbers, E.164" }),
            ranges: f.field({ type: [NumberRangeInput], required: false, description: "Ranges of numbers" }),
            state: f.field({
              type: NumberPortingState,
              required: false,
              description: "Their porting state (default NEW)",
            }),
            portingDate: f.field({ type: "DateTime", required: false, description: "Required when PORTING" }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Numbers.add(ctx.session, {
        accountId: input.accountId.id,
        numbers: input.numbers,
        ranges: input.ranges,
        state: input.state,
        portingDate: input.portingDate,
      }),
  }),
);

const MoveNumbersInput = builder.inputType("MoveNumbersInput", {
  description: `An account and numbers (at most ${Numbers.MAX_MOVE}, all or nothing)`,
  fields: (t) => ({
    accountId: t.globalID({ for: AccountRef, required: true, description: "The Account" }),
    numbers: t.stringList({ required: true, description: "Numbers, E.164" }),
  }),
});

builder.mutationField("allocateNumbers", (t) =>
  t.field({
    type: NumbersPayload,
    description:
      "A partner hands numbers of its pool down to a customer or sub-reseller (the account given; the writers above it). Each must be in the parent's pool, out of quarantine; of two allocations of one number exactly one wins",
    args: {
      input: t.arg({ type: MoveNumbersInput, required: true, description: "The receiving account and the numbers" }),
    },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Numbers.allocate(ctx.session, { accountId: input.accountId.id, numbers: input.numbers }),
  }),
);

builder.mutationField("releaseNumbers", (t) =>
  t.field({
    type: NumbersPayload,
    description: `Give numbers of the account's pool back to its parent's pool, quarantined ${Numbers.QUARANTINE_DAYS} days. A number on an extension, or the main number, is refused: free it first`,
    args: {
      input: t.arg({ type: MoveNumbersInput, required: true, description: "The holding account and the numbers" }),
    },
    errors: {},
    resolve: (_r, { input }, ctx) =>
      Numbers.release(ctx.session, { accountId: input.accountId.id, numbers: input.numbers }),
  }),
);

builder.mutationField("setMainNumber", (t) =>
  t.field({
    type: builder.objectRef<{ account: AccountRecord }>("SetMainNumberPayload").implement({
      description: "The account with its main number",
      fields: (f) => ({
        account: f.field({ type: AccountRef, description: "The account", resolve: (p) => p.account }),
      }),
    }),
    description: "Choose the account's main (business profile) number from its own pool; null clears it",
    args: {
      input: t.arg({
        required: true,
        description: "The operation's fields",
        type: builder.inputType("SetMainNumberInput", {
          description: "An account and one number of its pool",
          fields: (f) => ({
            accountId: f.globalID({ for: AccountRef, required: true, description: "The Account" }),
            number: f.string({ required: false, description: "A number of its pool, E.164; null clears it" }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      account: await Numbers.setMain(ctx.session, {
        accountId: input.accountId.id,
        number: input.number,
      }),
    }),
  }),
);

builder.mutationField("setNumberPorting", (t) =>
  t.field({
    type: builder.objectRef<{ numbers: Numbers.Info[] }>("SetNumberPortingPayload").implement({
      description: "The numbers with their new porting state",
      fields: (f) => ({
        numbers: f.field({ type: [PhoneNumberRef], description: "The numbers", resolve: (p) => p.numbers }),
      }),
    }),
    description: `Operators: record the porting state of numbers (at most ${Numbers.MAX_MOVE}): NEW → PORTING (with its date) → ACTIVE; an ACTIVE number stays ACTIVE`,
    args: {
      input: t.arg({
        required: true,
        description: "The operation's fields",
        type: builder.inputType("SetNumberPortingInput", {
          description: "Numbers and their porting state",
          fields: (f) => ({
            numbers: f.stringList({ required: true, description: "Numbers, E.164" }),
            state: f.field({ type: NumberPortingState, required: true, description: "The new state" }),
            portingDate: f.field({ type: "DateTime", required: false, description: "Required when PORTING" }),
          }),
        }),
      }),
    },
    errors: {},
    resolve: async (_r, { input }, ctx) => ({
      numbers: await Numbers.setPorting(ctx.session, {
        numbers: input.numbers,
        state: input.state,
        portingDate: input.portingDate,
      }),
    }),
  }),
);
