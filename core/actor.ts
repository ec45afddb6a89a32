/** Who is calling: held per request, decided once at the edge (JWT, device credential, job). */
export type Actor =
  | {
      readonly type: "user";
      /**
       * The token's issuer: with `subject`, the identity the address is bound to (core/identity.ts).
       * Absent only for users built in-process (benchmarks, scripts), which no token produced.
       */
      readonly issuer?: string;
      readonly subject: string;
      readonly email: string;
      readonly emailVerified: boolean;
    }
  | { readonly type: "system"; readonly job: string }
  /** A paired PBX, by its device credential (the version is re-checked against the equipment on every call). */
  | { readonly type: "device"; readonly accountId: string; readonly equipmentId: string; readonly version: number }
  /**
   * An API client (machine identity of an account) by its access token: it acts with its role and
   * seller flag on its account like a member, never on people or clients (core/rights.ts). `generation`
   * is the secret generation the token was issued for (rotation); rechecked on every request.
   */
  | {
      readonly type: "client";
      readonly clientId: string;
      readonly accountId: string;
      readonly name: string;
      readonly role: "OWNER" | "CONTRIBUTOR" | "VIEWER";
      readonly seller: boolean;
    }
  | { readonly type: "public" };

/** How the actor is written in the audit trail. */
export function actorLabel(actor: Actor): string {
  switch (actor.type) {
    case "user":
      return `user:${actor.email}`;
    case "system":
      return `system:${actor.job}`;
    case "device":
      return `device:${actor.equipmentId}`;
    case "client":
      // Audited as "client <name> of <account>", with its id: names are not unique.
      return `client:${actor.name} (${actor.clientId}) of ${actor.accountId}`;
    case "public":
      return "public";
  }
}

export type UserActor = Extract<Actor, { type: "user" }>;
export type ClientActor = Extract<Actor, { type: "client" }>;
