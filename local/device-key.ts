import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import type { JWK } from "jose";
import { createDeviceKeys, isDeviceSigningJwk } from "../infra/device-keys.js";
import type { DeviceKeys } from "../infra/device-keys.js";

/**
 * A local ES256 signing key generated once and kept as `file` in DATA_DIR (mode 0600), so what it
 * signed survives a restart; without a data directory it lives as long as the process.
 */
export async function localSigningJwk(dataDir: string | undefined, fileName: string, kidPrefix: string): Promise<JWK> {
  const file = dataDir ? join(dataDir, fileName) : undefined;
  if (file && existsSync(file)) {
    const stored: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (isDeviceSigningJwk(stored)) return stored;
  }
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = {
    ...(await exportJWK(privateKey)),
    kid: `${kidPrefix}-${Date.now().toString(36)}`,
    alg: "ES256",
    use: "sig",
  };
  if (file) writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

/**
 * The local stack's device signing key (AWS stages read DEVICE_SIGNING_KEY instead), so paired PBXs
 * and pending activation codes survive a restart (tests and --in-memory: per process).
 */
export async function localDeviceKeys(dataDir?: string): Promise<DeviceKeys> {
  return createDeviceKeys(await localSigningJwk(dataDir, "device-key.json", "device"));
}
