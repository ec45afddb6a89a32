/**
 * Equipment pairing (DESIGN 1; Rainbow "Declare a new device", "Manage connection", multi-tenant
 * equipment, extensions). An admin declares a PBX and gets a device id and an activation code;
 * the PBX activates with both (no user token) and receives a device credential for its later
 * calls (extensions, heartbeats).
 *
 * The use cases live by area under core/equipment/: pairing and activation, the PBX's own calls,
 * tenants of shared PBXs, extension associations, reads; this module is their one entry point.
 */
export {
  CODE_DAYS,
  CODE_DIGITS,
  HEARTBEAT_TIMEOUT_MS,
  MAX_ATTEMPTS,
  MAX_EXTENSIONS,
  isLocked,
  serverType,
  serverTypes,
  statusOf,
} from "./equipment/common.js";
export type {
  Assignment,
  DeclareInput,
  Info,
  Key,
  Pairing,
  ServerType,
  Status,
  Tenant,
  TenantView,
} from "./equipment/common.js";
export * from "./equipment/pairing.js";
export * from "./equipment/device.js";
export * from "./equipment/tenants.js";
export * from "./equipment/extensions.js";
export * from "./equipment/reads.js";
