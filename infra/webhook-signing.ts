import { Webhook } from "standardwebhooks";

/**
 * The Standard Webhooks headers of one delivery, signed with the `standardwebhooks` package:
 * `webhook-id` (the event id, the same on every retry), `webhook-timestamp` (seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret,
 * space-separated: during a rotation both the new and the previous secret sign, so receivers
 * holding either verify).
 */
export function signedHeaders(
  secrets: readonly string[],
  webhookId: string,
  at: Date,
  body: string,
): Record<string, string> {
  if (secrets.length === 0) throw new Error("no signing secret");
  return {
    "webhook-id": webhookId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(webhookId, at, body)).join(" "),
  };
}
