import { CheckedModelEntity } from "./entity.js";
import type { EntityConfiguration } from "electrodb";

/**
 * The IdP identity (`iss`, `sub`) an e-mail address is bound to, written once at the first verified
 * sign-in (security rule 1): an address later re-assigned at the IdP (another `sub`) does not
 * inherit the old person's rights. Its own partition per address; never updated.
 */
export function identityBindingEntity(config: EntityConfiguration) {
  return new CheckedModelEntity(
    {
      model: { entity: "identityBinding", version: "1", service: "cp" },
      attributes: {
        email: { type: "string", required: true, readOnly: true },
        issuer: { type: "string", required: true, readOnly: true },
        subject: { type: "string", required: true, readOnly: true },
        boundAt: { type: "string", required: true, readOnly: true },
      },
      indexes: {
        byEmail: {
          pk: { field: "pk", composite: ["email"] },
          sk: { field: "sk", composite: [] },
        },
      },
    },
    config,
  );
}
