import { Entity } from "electrodb";

/**
 * ElectroDB's Entity, without its model check on every construction. ElectroDB checks each model
 * against two JSON schemas with jsonschema whenever an entity is constructed (its `_validateModel`,
 * entity.js): about 2 ms an entity, close to 90 ms of every cold start for the 44 entities a function
 * builds, every time for the same fixed models. The models cannot change at run time, so the check
 * runs in the tests instead: test/entities.test.ts checks every entity's model with ElectroDB's own
 * check. Should ElectroDB rename the hook, this override does nothing and the check runs as before.
 */
class WithoutModelCheck extends Entity<string, string, string, never> {
  /** The model was checked by the tests (see above). */
  protected _validateModel(): void {}
}

/** Typed as ElectroDB's Entity (the same instances, generics inferred from the model as ever). */
export const CheckedModelEntity = WithoutModelCheck as unknown as typeof Entity;
