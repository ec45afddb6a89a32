import type { Actor } from "../core/actor.js";
import { Session } from "../core/context.js";
import type { Deps } from "../core/context.js";
import { RateLimited, VisibleError } from "../core/errors.js";
import * as InvoiceFiles from "../core/invoice-files.js";
import { BadCredentials, actorOf } from "./bearer.js";
import type { Authenticate } from "./bearer.js";
import { scopedId } from "./ids.js";
import type { Issuer } from "../infra/documents.js";

export interface DownloadsOptions {
  readonly deps: Deps;
  readonly authenticate: Authenticate;
  /** The vendor's legal identity on invoices. */
  readonly issuer?: Issuer;
}

/** The one route beside /graphql: invoice documents. */
export const DOWNLOAD_PATH = /^\/invoices\/([A-Za-z0-9+/=_-]{1,300})\.(pdf|csv|xlsx)$/;

/**
 * `GET /invoices/<invoice id>.pdf|.csv|.xlsx`: the invoice and its consumption report (`?bom=1`: a
 * CSV with a UTF-8 byte order mark, for spreadsheet programs), for the same bearer token and the
 * same rights as `Query.invoice`. A fetch handler of its own (the documents function in AWS, a
 * route of the local server), so the GraphQL function never loads the PDF and CSV renderers.
 */
export function createDownloadsHandler(opts: DownloadsOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const fail = (status: number, error: string) =>
      Response.json({ error }, { status, ...(status === 401 ? { headers: { "WWW-Authenticate": "Bearer" } } : {}) });
    const m = DOWNLOAD_PATH.exec(new URL(request.url).pathname);
    if (!m) return fail(404, "Not found");
    if (request.method !== "GET") return new Response(null, { status: 405, headers: { allow: "GET" } });
    const header = request.headers.get("authorization");
    if (header === null) return fail(401, "Sign in first");
    let actor: Actor;
    try {
      actor = await actorOf(header, opts.deps, opts.authenticate);
    } catch (err) {
      if (err instanceof RateLimited)
        return Response.json(
          { error: err.message },
          { status: 429, headers: { "Retry-After": String(err.retryAfterSeconds) } },
        );
      return fail(401, err instanceof BadCredentials ? err.message : "Invalid or expired token");
    }
    try {
      const { accountId, key } = scopedId(decodeURIComponent(m[1]!), "Invoice");
      const bom = ["1", "true"].includes(new URL(request.url).searchParams.get("bom") ?? "");
      const file = await InvoiceFiles.download(
        new Session(opts.deps, actor),
        accountId,
        key,
        m[2] as InvoiceFiles.FileFormat,
        opts.issuer ?? { name: "Channel Partner Platform" },
        { bom },
      );
      const body = typeof file.body === "string" ? file.body : new Blob([new Uint8Array(file.body)]);
      return new Response(body, {
        status: 200,
        headers: {
          "content-type": file.contentType,
          "content-disposition": `attachment; filename="${file.filename}"`,
          "cache-control": "private, no-store",
        },
      });
    } catch (err) {
      if (err instanceof VisibleError) return fail(err.code === "FORBIDDEN" ? 403 : 404, err.message);
      return fail(500, "Unexpected error");
    }
  };
}
