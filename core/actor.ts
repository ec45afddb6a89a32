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
    case "public":
      return "public";
  }
}
