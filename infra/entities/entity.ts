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

/**
 * A table's entities, each built on first use and kept: a cold request builds the few entities it
 * touches, not all of them (building one costs about 1 ms of ElectroDB's key and clause setup; the
 * API's 44 took about 50 ms of every cold invocation's first call). Enumerating the object builds
 * them all (test/entities.test.ts does, to check every model).
 */
export function lazyEntities<C, F extends Record<string, (config: C) => unknown>>(
  factories: F,
  config: C,
): { readonly [K in keyof F]: ReturnType<F[K]> } {
  const entities = {} as { [K in keyof F]: ReturnType<F[K]> };
  for (const name of Object.keys(factories) as (keyof F)[]) {
    Object.defineProperty(entities, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        const entity = factories[name]!(config) as ReturnType<F[typeof name]>;
        Object.defineProperty(entities, name, { value: entity, enumerable: true, writable: false });
        return entity;
      },
    });
  }
  return entities;
}
