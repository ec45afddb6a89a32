import type { GraphQLError } from "graphql";
import { createGraphQLError, createYoga, isAsyncIterable, maskError as defaultMaskError } from "graphql-yoga";
import type { Plugin } from "graphql-yoga";
import type { Actor } from "../core/actor.js";
import { Session } from "../core/context.js";
import type { Deps } from "../core/context.js";
import { Unauthenticated, VisibleError } from "../core/errors.js";
import type { Context } from "./builder.js";
import { schema } from "./schema.js";

/** Turns a bearer token into a user; throws when the token is not acceptable. */
export type Authenticate = (token: string) => Promise<{ subject: string; email: string; emailVerified: boolean }>;

export interface ServerOptions {
  readonly deps: Deps;
  readonly authenticate: Authenticate;
  /** GraphiQL in the browser (local stack; off in Lambda stages unless configured). */
  readonly graphiql: boolean;
  readonly graphqlEndpoint?: string;
}

const unauthorized = (message: string) =>
  createGraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": "Bearer" } } } });

function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === "GraphQLError";
}

/**
 * Input the schema itself refuses (a variable that is not an Int, a missing required field) fails
 * before any resolver runs, without a code; it gets `BAD_USER_INPUT` so clients can tell it apart.
 */
const codeInputErrors: Plugin = {
  onExecute: () => ({
    onExecuteDone: ({ result, setResult }) => {
      if (isAsyncIterable(result) || result.data != null || !result.errors?.length) return;
      setResult({
        ...result,
        errors: result.errors.map((e) =>
          e.extensions?.code || e.path
            ? e
            : createGraphQLError(e.message, { ...(e.nodes ? { nodes: e.nodes } : {}), extensions: { ...e.extensions, code: "BAD_USER_INPUT" } }),
        ),
      });
    },
  }),
};

/**
 * The one Yoga instance shared by the Lambda handler and the local server: same schema, same
 * authentication, same error masking.
 */
export function createGraphQLServer(opts: ServerOptions) {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: opts.graphqlEndpoint ?? "/graphql",
    healthCheckEndpoint: "/health",
    landingPage: false,
    graphiql: opts.graphiql ? { title: "Channel Partner API" } : false,
    logging: false,
    plugins: [codeInputErrors],
    context: async ({ request }): Promise<Context> => {
      const header = request.headers.get("authorization");
      let actor: Actor = { type: "public" };
      if (header !== null) {
        const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header.trim());
        if (!m) throw unauthorized("Malformed Authorization header");
        try {
          const user = await opts.authenticate(m[1]!);
          actor = { type: "user", ...user };
        } catch {
          throw unauthorized("Invalid or expired token");
        }
      }
      return { session: new Session(opts.deps, actor) };
    },
    maskedErrors: {
      maskError(error, message, isDev) {
        // Duck-typed: under some loaders `graphql` is instantiated twice, so instanceof is unreliable.
        const located = isGraphQLError(error) ? error : undefined;
        const original = located ? located.originalError : error;
        if (original instanceof Unauthenticated) {
          return unauthorized(original.message);
        }
        if (original instanceof VisibleError) {
          return createGraphQLError(original.message, {
            ...(located?.nodes ? { nodes: located.nodes } : {}),
            ...(located?.path ? { path: located.path } : {}),
            extensions: { code: original.code, ...("issues" in original ? { issues: original.issues } : {}) },
          });
        }
        return defaultMaskError(error, message, isDev);
      },
    },
  });
}

export type GraphQLServer = ReturnType<typeof createGraphQLServer>;
