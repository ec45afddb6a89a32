import * as z from "zod";
import type { Mailer, MailMessage } from "./mail.js";
import type { WorkQueue } from "./queue.js";

/** The body of one message on the mail queue. */
interface QueuedMail {
  readonly mail: { readonly to: string; readonly subject: string; readonly text: string };
}

/**
 * The mail port over the mail queue: `send` only enqueues; the mail worker delivers through SES,
 * and a delivery that fails comes back (SQS redelivery, then the dead-letter queue). So an SES
 * outage or throttling never loses an invitation mail, and the GraphQL function neither waits on
 * SES nor bundles its client. Attachments do not travel through SQS (256 KB per message): mails
 * with files (invoices) are sent by the billing worker itself, which has its own retry.
 */
export class QueuedMailer implements Mailer {
  constructor(private readonly queue: WorkQueue) {}
  async send(message: MailMessage): Promise<void> {
    if (message.attachments?.length)
      throw new Error("QueuedMailer: attachments are sent by the worker that renders them, not queued");
    const body: QueuedMail = { mail: { to: message.to, subject: message.subject, text: message.text } };
    await this.queue.send([JSON.stringify(body)]);
  }
}

/** A mail-queue message that can never be delivered: reported failed, it ends in the dead-letter queue. */
export class UndeliverableMail extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "UndeliverableMail";
  }
}

const MAX_SUBJECT = 998;
const MAX_TEXT = 200_000;

const queuedMail = z.object({
  mail: z.object({
    to: z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/),
    subject: z.string().max(MAX_SUBJECT),
    text: z.string().max(MAX_TEXT),
  }),
});

/** Reads one mail-queue message; throws UndeliverableMail for anything that is not one. */
export function parseQueuedMail(body: string): MailMessage {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    throw new UndeliverableMail("not JSON");
  }
  const parsed = queuedMail.safeParse(m);
  if (!parsed.success) throw new UndeliverableMail("not a mail message");
  return parsed.data.mail;
}

/** The mail worker's unit of work: one queued mail, handed to the real mailer (SES; the outbox locally). */
export async function deliverQueuedMail(mailer: Mailer, body: string): Promise<void> {
  await mailer.send(parseQueuedMail(body));
}

/**
 * The mailer of the functions that send both kinds of mail: plain ones (reminders, invitations) to
 * the mail queue, mails with files (invoices, which SQS cannot carry) straight to `direct`, which
 * is also used while no queue is configured (`queue()` answers undefined).
 */
export function routedMailer(queue: () => WorkQueue | undefined, direct: Mailer): Mailer {
  return {
    send: (m) => {
      const q = m.attachments?.length ? undefined : queue();
      return q ? new QueuedMailer(q).send(m) : direct.send(m);
    },
  };
}
