import type { JWK } from "jose";
import { createApiKeys } from "../infra/api-keys.js";
import type { ApiKeys } from "../infra/api-keys.js";
import { parseSigningKey } from "../infra/config.js";
import { createDeviceKeys } from "../infra/device-keys.js";
import type { DeviceKeys } from "../infra/device-keys.js";
import { sstSecret } from "../infra/secrets.js";

/**
 * A key read once per container, when first needed: deployed, the SST secret `name` (an SSM
 * SecureString bound by the stacks); elsewhere the key from the environment, if any. A failed read
 * is retried by the next call that needs it.
 */
function secretKeyLoader<K>(
  name: string,
  fromEnvironment: JWK | undefined,
  create: (jwk: JWK) => K,
): () => Promise<K | undefined> {
  let loading: Promise<K | undefined> | undefined;
  const load = async (): Promise<K | undefined> => {
    const secret = await sstSecret(name);
    if (secret !== undefined) return create(parseSigningKey(name, secret));
    return fromEnvironment ? create(fromEnvironment) : undefined;
  };
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}

/** The API's own key (API client tokens, sealed webhook secrets): the secret API_SIGNING_KEY. */
export const apiKeysLoader = (fromEnvironment?: JWK): (() => Promise<ApiKeys | undefined>) =>
  secretKeyLoader("API_SIGNING_KEY", fromEnvironment, createApiKeys);

/** The equipment key (device credentials, activation-code digests): the secret DEVICE_SIGNING_KEY. */
export const deviceKeysLoader = (fromEnvironment?: JWK): (() => Promise<DeviceKeys | undefined>) =>
  secretKeyLoader("DEVICE_SIGNING_KEY", fromEnvironment, createDeviceKeys);
