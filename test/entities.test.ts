/**
 * Every entity model of the table passes ElectroDB's own model check. The stores build their
 * entities without it (infra/entities/entity.ts: the check costs about 2 ms an entity at every cold
 * start, for models fixed at build time), so it runs here, on every entity factory of infra/entities.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Entity } from "electrodb";
import type { Schema } from "electrodb";
import { describe, expect, it } from "vitest";
import { createDocumentClient } from "../infra/dynamo.js";
import { CheckedModelEntity, lazyEntities } from "../infra/entities/entity.js";
import { createEntities } from "../infra/store.js";

const client = createDocumentClient({ region: "local", endpoint: "http://127.0.0.1:1" });
const config = { client, table: "entities-test" };
type AnySchema = Schema<string, string, string>;

/** Every entity the modules of infra/entities make, by factory name. */
async function allEntities(): Promise<Map<string, { schema: AnySchema }>> {
  const dir = join(import.meta.dirname, "..", "infra", "entities");
  const out = new Map<string, { schema: AnySchema }>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "entity.ts")) {
    const mod = (await import(join(dir, file))) as Record<string, unknown>;
    for (const [name, factory] of Object.entries(mod)) {
      if (typeof factory !== "function" || !name.endsWith("Entity")) continue;
      const made = (factory as (c: typeof config) => unknown)(config);
      if (made instanceof Entity) out.set(`${file}:${name}`, made as unknown as { schema: AnySchema });
    }
  }
  return out;
}

describe("entity models", () => {
  it("every entity factory's model passes ElectroDB's model check", async () => {
    const entities = await allEntities();
    expect(entities.size).toBeGreaterThanOrEqual(40);
    for (const [name, e] of entities) {
      expect(() => new Entity(e.schema, config), name).not.toThrow();
    }
    // The stores' entities are among them (one per model name).
    const checked = new Set([...entities.values()].map((e) => e.schema.model.entity));
    for (const e of Object.values(createEntities(client, "entities-test"))) {
      expect(checked.has((e.schema as AnySchema).model.entity), e.schema.model.entity).toBe(true);
    }
  });

  it("the check refuses a bad model (so the test above can fail)", () => {
    const bad = {
      model: { entity: "bad", version: "1", service: "cp" },
      attributes: { id: { type: "no-such-type" } },
      indexes: { byId: { pk: { field: "pk", composite: ["id"] } } },
    } as unknown as AnySchema;
    expect(() => new Entity(bad, config)).toThrow(/type/);
  });

  it("the stores skip it through ElectroDB's own hook, which still exists (else the skip would do nothing)", () => {
    const hook = (proto: object) => (proto as { _validateModel?: unknown })._validateModel;
    expect(typeof hook(Entity.prototype)).toBe("function");
    expect(hook(CheckedModelEntity.prototype)).not.toBe(hook(Entity.prototype));
    const store = createEntities(client, "entities-test");
    for (const e of Object.values(store)) expect(e).toBeInstanceOf(CheckedModelEntity);
  });

  it("a store's entities are built on first use, once each", () => {
    // Prepare: count the entities constructed.
    let built = 0;
    const counting = lazyEntities({ a: () => ({ n: ++built }), b: () => ({ n: ++built }) }, undefined);
    // Act and assess
    expect(built).toBe(0);
    expect(counting.a).toBe(counting.a);
    expect(built).toBe(1);
    expect(Object.keys(counting)).toEqual(["a", "b"]);
    expect(Object.values(counting).map((e) => e.n)).toEqual([1, 2]);
    expect(built).toBe(2);
    const store = createEntities(client, "entities-test");
    expect(store.account).toBe(store.account);
    expect(store.account.schema.model.entity).toBe("account");
  });
});
