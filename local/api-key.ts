import { createApiKeys } from "../infra/api-keys.js";
import type { ApiKeys } from "../infra/api-keys.js";
import { localSigningJwk } from "./device-key.js";

/**
 * The local stack's API key (AWS stages read the API_SIGNING_KEY secret instead), so client tokens
 * and sealed webhook secrets survive a restart (without a data directory: per process).
 */
export async function localApiKeys(dataDir?: string): Promise<ApiKeys> {
  return createApiKeys(await localSigningJwk(dataDir, "api-key.json", "api"));
}
