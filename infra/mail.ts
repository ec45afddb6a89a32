import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** The mail port: SES in AWS, an outbox on the local stack (SES has no local engine). */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** Sends through Amazon SES v2. */
export class SesMailer implements Mailer {
  readonly #client: SESv2Client;
  constructor(
    readonly from: string,
    region: string,
  ) {
    this.#client = new SESv2Client({ region });
  }
  async send(message: MailMessage): Promise<void> {
    await this.#client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [message.to] },
        Content: { Simple: { Subject: { Data: message.subject }, Body: { Text: { Data: message.text } } } },
      }),
    );
  }
}

export interface OutboxEntry extends MailMessage {
  readonly id: number;
  readonly from: string;
  readonly sentAt: string;
}

/** Keeps mail in memory for `GET /dev/outbox` (local stack and tests). */
export class OutboxMailer implements Mailer {
  readonly #entries: OutboxEntry[] = [];
  constructor(
    readonly from: string,
    private readonly now: () => Date,
  ) {}
  async send(message: MailMessage): Promise<void> {
    this.#entries.push({ ...message, id: this.#entries.length + 1, from: this.from, sentAt: this.now().toISOString() });
  }
  list(): readonly OutboxEntry[] {
    return this.#entries;
  }
}
