import { errorTypeMap } from "@pothos/plugin-errors";
import { defaultFieldResolver } from "graphql";
import type {
  DocumentNode,
  GraphQLError,
  GraphQLField,
  GraphQLFieldResolver,
  GraphQLSchema,
  OperationDefinitionNode,
} from "graphql";
import { isAsyncIterable } from "graphql-yoga";
import type { Plugin } from "graphql-yoga";
import type { MetricName, Telemetry } from "../infra/telemetry.js";
import { correlationIdOf } from "../infra/telemetry.js";
import type { Context } from "./builder.js";

/** Business metrics counted when a mutation succeeds (or, for activations, is refused). */
const ON_SUCCESS: Readonly<Record<string, MetricName>> = {
  placeOrder: "OrdersPlaced",
  inviteMember: "InvitationsSent",
  inviteExistingAccount: "InvitationsSent",
  activateEquipment: "ActivationsSucceeded",
};
const ON_TYPED_ERROR: Readonly<Record<string, MetricName>> = {
  activateEquipment: "ActivationsRefused",
};

interface RequestContext {
  readonly request?: Request;
}

const codeOf = (e: GraphQLError) =>
  typeof e.extensions?.code === "string" ? e.extensions.code : "INTERNAL_SERVER_ERROR";

/** Counts the business metric of one mutation result into the server's telemetry. */
function countResult(telemetry: Telemetry, field: string, result: unknown): void {
  // A thrown error is masked and counted as a server error; a typed error is the Pothos errors
  // plugin's proxy of the error (registered in its `errorTypeMap`); anything else is the success payload.
  if (result instanceof Error || result === null || typeof result !== "object") return;
  if (errorTypeMap.has(result)) {
    const metric = ON_TYPED_ERROR[field];
    if (metric) telemetry.count(metric);
    return;
  }
  const metric = ON_SUCCESS[field];
  if (metric) telemetry.count(metric);
  if (field === "createAccount" && (result as { invitation?: unknown }).invitation) telemetry.count("InvitationsSent");
}

const OBSERVED = Symbol("observed mutation");

/**
 * Wraps the resolvers of the Mutation fields (only those: queries pay nothing) once, whatever the
 * number of servers in the process, and counts into the telemetry of the server that runs the
 * request, taken from its context.
 */
const mutationResults: Plugin<Context & RequestContext> = {
  onSchemaChange({ schema }) {
    const fields: Array<GraphQLField<unknown, Context> & { [OBSERVED]?: true }> = Object.values(
      (schema as GraphQLSchema).getMutationType()?.getFields() ?? {},
    );
    for (const field of fields) {
      const marked = field;
      if (marked[OBSERVED]) continue;
      const resolve: GraphQLFieldResolver<unknown, Context> = field.resolve ?? defaultFieldResolver;
      field.resolve = async (root, args, context, info) => {
        const result: unknown = await resolve(root, args, context, info);
        if (context.telemetry) countResult(context.telemetry, info.fieldName, result);
        return result;
      };
      marked[OBSERVED] = true;
    }
  },
};

/**
 * One structured log line per operation (name, type, root fields, duration, outcome and error codes,
 * request and correlation ids) and the request, error and business metrics. Never variables, never
 * the document, never a token or an e-mail: names and codes only.
 */
export function observability(telemetry: Telemetry): Plugin<Context & RequestContext> {
  /** Per request: when it started, and what the executed operation was (absent when it never ran). */
  const seen = new WeakMap<
    Request,
    { started: number; operationName?: string; operation?: OperationDefinitionNode; actor?: string }
  >();
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(mutationResults);
    },
    onParams({ request, params }) {
      seen.set(request, {
        started: performance.now(),
        ...(typeof params.operationName === "string" ? { operationName: params.operationName } : {}),
      });
    },
    onExecute({ args }) {
      const request = args.contextValue.request;
      const entry = request ? seen.get(request) : undefined;
      if (!entry) return;
      const document = args.document as DocumentNode;
      const operation = document.definitions.find(
        (d): d is OperationDefinitionNode =>
          d.kind === "OperationDefinition" && (!args.operationName || d.name?.value === args.operationName),
      );
      if (operation) entry.operation = operation;
      entry.actor = args.contextValue.session.actor.type;
    },
    onResultProcess({ request, result }) {
      const entry = seen.get(request);
      if (!entry || Array.isArray(result) || isAsyncIterable(result)) return;
      seen.delete(request);
      const errors = (result as { errors?: readonly GraphQLError[] }).errors ?? [];
      const codes = [...new Set(errors.map(codeOf))];
      telemetry.count("Requests");
      if (codes.length) telemetry.count("Errors");
      if (codes.includes("INTERNAL_SERVER_ERROR")) telemetry.count("ServerErrors");
      if (codes.includes("THROTTLED")) telemetry.count("Throttled");
      if (codes.includes("RATE_LIMITED")) telemetry.count("RateLimited");
      // API Gateway's request id in Lambda; a fresh one on the local server.
      const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
      const op = entry.operation;
      telemetry.info("graphql operation", {
        // GraphQL names are identifiers (no spaces, no @): safe to log.
        operation:
          op?.name?.value ??
          (entry.operationName && /^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(entry.operationName)
            ? entry.operationName
            : "anonymous"),
        type: op?.operation ?? "not-executed",
        fields: op?.selectionSet.selections.flatMap((x) => (x.kind === "Field" ? [x.name.value] : [])) ?? [],
        actor: entry.actor,
        durationMs: Math.round((performance.now() - entry.started) * 10) / 10,
        outcome: codes.length ? "error" : "ok",
        errorCodes: codes,
        requestId,
        correlationId: correlationIdOf(request.headers.get("x-correlation-id")) ?? requestId,
      });
    },
  };
}
