/**
 * Webhook endpoints: an account's OWNERs (people, or API clients with the OWNER role)
 * register URLs; every event the endpoint's creator could read in the feed, of the types it takes,
 * is POSTed there, signed to the Standard Webhooks specification, and retried on failure.
 * Endpoint management is in core/webhooks/endpoints.ts; the fan-out from the change stream and the
 * delivery worker in core/webhooks/delivery.ts.
 */
export {
  MAX_ENDPOINTS,
  ROTATION_OVERLAP_MS,
  create,
  deliveries,
  deliveryLocalId,
  find,
  findDelivery,
  list,
  redeliver,
  remove,
  rotateSecret,
  sendTestEvent,
  splitEndpointId,
  update,
} from "./webhooks/endpoints.js";
export type { DeliveryInfo, EndpointInfo } from "./webhooks/endpoints.js";
export {
  DELIVERY_TIMEOUT_MS,
  DISABLE_AFTER_MS,
  RETRY_SCHEDULE_SECONDS,
  TEST_EVENT_TYPE,
  deliver,
  deliverBatch,
  globalIdOf,
} from "./webhooks/delivery.js";
export type { DeliveryOutcome, DeliveryRuntime, ReceivedDelivery } from "./webhooks/delivery.js";
export { fanOut, parseDeliveryMessage } from "./webhooks/fan-out.js";
export type { DeliveryMessage } from "./webhooks/fan-out.js";
