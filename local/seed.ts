import { readFileSync } from "node:fs";
import * as Catalog from "../core/catalog.js";
import type { Deps } from "../core/context.js";

interface SeedFile {
  readonly offers: readonly Catalog.SeedOffer[];
  readonly serverTypes: ReadonlyArray<{ readonly id: string; readonly name: string; readonly multiTenant: boolean }>;
}

/** The project's own copy of the demo data (never read from outside the repository). */
export function loadSeed(): SeedFile {
  return JSON.parse(readFileSync(new URL("./seed/demo-catalog.json", import.meta.url), "utf8")) as SeedFile;
}

/** Seeds the demo catalog into the local stack; offers already there are left as they are. */
export async function seedCatalog(deps: Deps): Promise<number> {
  return Catalog.seed(deps, loadSeed().offers);
}
