import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import type { JWK } from "jose";
import { createApiKeys } from "../infra/api-keys.js";
import type { ApiKeys } from "../infra/api-keys.js";
import { isDeviceSigningJwk } from "../infra/device-keys.js";

/**
 * The local stack's API key (AWS stages read the API_SIGNING_KEY secret instead): an ES256 key
 * generated once and kept in DATA_DIR, so client tokens and sealed webhook secrets survive a
 * restart. Without a data directory it lives as long as the process.
 */
export async function localApiKeys(dataDir?: string): Promise<ApiKeys> {
  const file = dataDir ? join(dataDir, "api-key.json") : undefined;
  let jwk: JWK | undefined;
  if (file && existsSync(file)) {
    const stored: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (isDeviceSigningJwk(stored)) jwk = stored;
  }
  if (!jwk) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    jwk = { ...(await exportJWK(privateKey)), kid: `api-${Date.now().toString(36)}`, alg: "ES256", use: "sig" };
    if (file) writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  return createApiKeys(jwk);
}
