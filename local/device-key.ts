import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import type { JWK } from "jose";
import { createDeviceKeys, isDeviceSigningJwk } from "../infra/device-keys.js";
import type { DeviceKeys } from "../infra/device-keys.js";

/**
 * The local stack's device signing key (AWS stages read DEVICE_SIGNING_KEY instead): an ES256
 * key generated once and kept in DATA_DIR, so paired PBXs and pending activation codes survive a
 * restart. Without a data directory (tests, --in-memory) it lives as long as the process.
 */
export async function localDeviceKeys(dataDir?: string): Promise<DeviceKeys> {
  const file = dataDir ? join(dataDir, "device-key.json") : undefined;
  let jwk: JWK | undefined;
  if (file && existsSync(file)) {
    const stored: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (isDeviceSigningJwk(stored)) jwk = stored;
  }
  if (!jwk) {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    jwk = { ...(await exportJWK(privateKey)), kid: `device-${Date.now().toString(36)}`, alg: "ES256", use: "sig" };
    if (file) writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  return createDeviceKeys(jwk);
}
