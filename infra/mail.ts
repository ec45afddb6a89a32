import { randomBytes } from "node:crypto";
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";

/** A file sent with a mail (an invoice PDF, a CSV report). */
export interface MailAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Uint8Array;
}

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly attachments?: ReadonlyArray<MailAttachment>;
}

/** The mail port: SES in AWS, an outbox on the local stack (SES has no local engine). */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/**
 * Sends through Amazon SES v2. SES's Simple content has no attachments, so a message with files
 * goes as a raw MIME message built here (SES stamps its own Date and Message-ID on it).
 */
export class SesMailer implements Mailer {
  readonly #client: SESv2Client;
  constructor(
    readonly from: string,
    region: string,
  ) {
    this.#client = new SESv2Client({ region });
  }
  async send(message: MailMessage): Promise<void> {
    const content = message.attachments?.length
      ? { Raw: { Data: new TextEncoder().encode(buildRawMessage(this.from, message)) } }
      : { Simple: { Subject: { Data: message.subject }, Body: { Text: { Data: message.text } } } };
    await this.#client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [message.to] },
        Content: content,
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// MIME (RFC 5322, 2045-2047, 2231)

const CRLF = "\r\n";

/**
 * The message as RFC 5322 / MIME text, multipart/mixed: a UTF-8 quoted-printable text part, then
 * each attachment in base64. Pure 7-bit ASCII with CRLF line endings, so no relay needs to re-encode
 * it (which would break a DKIM signature). `boundary` is random unless a test pins it.
 */
export function buildRawMessage(from: string, message: MailMessage, boundary: string = randomBoundary()): string {
  const head = [
    `From: ${headerAddress(from)}`,
    `To: ${headerAddress(message.to)}`,
    foldHeader("Subject", encodeHeaderText(message.subject)),
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed;${CRLF} boundary="${boundary}"`,
  ];
  const parts = [
    [
      "Content-Type: text/plain; charset=UTF-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      quotedPrintable(message.text),
    ].join(CRLF),
    ...(message.attachments ?? []).map((a) => {
      const name = singleLine(a.filename) || "attachment";
      return [
        `Content-Type: ${mediaType(a.contentType)};${CRLF} ${nameParameter("name", name)}`,
        `Content-Disposition: attachment;${CRLF} ${nameParameter("filename", name)}`,
        "Content-Transfer-Encoding: base64",
        "",
        base64Lines(a.content),
      ].join(CRLF);
    }),
  ];
  return [
    ...head,
    "",
    "This is a multi-part message in MIME format.",
    ...parts.map((p) => `--${boundary}${CRLF}${p}`),
    `--${boundary}--`,
    "",
  ].join(CRLF);
}

/** 24 random bytes: no part body (base64 or quoted-printable text) can contain it by chance. */
function randomBoundary(): string {
  return `=_part_${randomBytes(24).toString("hex")}`;
}

/**
 * An address goes into a header, so a line break in it would inject headers: refuse it. A display
 * name outside ASCII (`Société <billing@…>`) is RFC 2047-encoded.
 */
function headerAddress(address: string): string {
  if (/[\r\n]/.test(address)) throw new Error("mail address contains a line break");
  const named = /^\s*"?([^"<]*?)"?\s*<([^<>]+)>\s*$/.exec(address);
  if (!named || !NOT_PRINTABLE_ASCII.test(named[1] ?? "")) return address;
  return `${encodedWords(named[1] ?? "").join(" ")} <${named[2]}>`;
}

function singleLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, " ").trim();
}

/** `type/subtype` plus simple parameters (e.g. charset); anything else is sent as opaque bytes. */
function mediaType(contentType: string): string {
  const ct = singleLine(contentType);
  return /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\\]*"|[\w.+-]+))*$/.test(ct) ? ct : "application/octet-stream";
}

const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/**
 * A file name parameter: quoted ASCII when it can be. Otherwise the disposition's filename follows
 * RFC 2231 (`filename*=UTF-8''…`) and the content type's name carries RFC 2047 words, which is
 * what older clients (Outlook) read.
 */
function nameParameter(param: "name" | "filename", value: string): string {
  if (!NOT_PRINTABLE_ASCII.test(value)) return `${param}="${value.replace(/[\\"]/g, "\\$&")}"`;
  const pct = Array.from(new TextEncoder().encode(value), (b) =>
    /[A-Za-z0-9!#$&+.^_`|~-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
  ).join("");
  return param === "filename" ? `${param}*=UTF-8''${pct}` : `${param}="${encodedWords(value).join(`${CRLF} `)}"`;
}

/** Header text: as is when printable ASCII (and not looking like an encoded word), else RFC 2047. */
function encodeHeaderText(value: string): string[] {
  const v = singleLine(value);
  if (!NOT_PRINTABLE_ASCII.test(v) && !v.includes("=?")) return v.split(" ");
  return encodedWords(v);
}

/**
 * RFC 2047 B-encoded words, each under the RFC's 75 characters and split between characters
 * (never inside a UTF-8 sequence), as the RFC requires of each word.
 */
function encodedWords(value: string): string[] {
  const prefix = "=?UTF-8?B?";
  const suffix = "?=";
  // 39 bytes → 52 base64 characters, a 64-character word: "Subject: " plus one word stays within 76 columns.
  const maxBytes = 39;
  const words: string[] = [];
  let chunk: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    if (size === 0) return;
    words.push(`${prefix}${Buffer.concat(chunk).toString("base64")}${suffix}`);
    chunk = [];
    size = 0;
  };
  for (const ch of value) {
    const bytes = new TextEncoder().encode(ch);
    if (size + bytes.length > maxBytes) flush();
    chunk.push(bytes);
    size += bytes.length;
  }
  flush();
  return words;
}

/** `Name: word word…` folded before 78 columns (RFC 5322 2.1.1) at the spaces between words. */
function foldHeader(name: string, words: string[]): string {
  const lines: string[] = [];
  let line = `${name}:`;
  for (const word of words) {
    if (line.length + 1 + word.length > 76 && line.length > name.length + 1) {
      lines.push(line);
      line = "";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines.join(CRLF);
}

/**
 * RFC 2045 6.7 quoted-printable of the UTF-8 text: line breaks become CRLF hard breaks, lines
 * longer than 76 get soft breaks, never inside an =XX escape.
 */
function quotedPrintable(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const bytes = new TextEncoder().encode(line);
      const tokens: string[] = [];
      bytes.forEach((b, i) => {
        const last = i === bytes.length - 1;
        const literal = (b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last);
        tokens.push(literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`);
      });
      const out: string[] = [];
      let current = "";
      for (const t of tokens) {
        if (current.length + t.length > 75) {
          out.push(`${current}=`);
          current = "";
        }
        current += t;
      }
      out.push(current);
      return out.join(CRLF);
    })
    .join(CRLF);
}

/** Base64 in lines of 76 characters (RFC 2045 6.8). */
function base64Lines(content: Uint8Array): string {
  const b64 = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
}

// ---------------------------------------------------------------------------------------------
// Outbox

/** What the outbox lists of an attachment: JSON-safe, the bytes are fetched separately. */
export interface OutboxAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
}

export interface OutboxEntry {
  readonly id: number;
  readonly from: string;
  readonly sentAt: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly attachments: readonly OutboxAttachment[];
}

interface StoredEntry extends Omit<OutboxEntry, "attachments"> {
  readonly files: readonly MailAttachment[];
}

/** Keeps mail in memory for `GET /dev/outbox` (local stack and tests). */
export class OutboxMailer implements Mailer {
  readonly #entries: StoredEntry[] = [];
  #failing = 0;
  constructor(
    readonly from: string,
    private readonly now: () => Date,
  ) {}
  /** The next `count` sends fail as SES would when throttled or down (local fault injection). */
  failNext(count: number): void {
    this.#failing = count;
  }
  async send(message: MailMessage): Promise<void> {
    if (this.#failing > 0) {
      this.#failing--;
      throw new Error("local outbox: sending refused (simulated SES failure)");
    }
    // Same refusal as SES would give, so a bad address fails locally too.
    headerAddress(message.to);
    this.#entries.push({
      id: this.#entries.length + 1,
      from: this.from,
      sentAt: this.now().toISOString(),
      to: message.to,
      subject: message.subject,
      text: message.text,
      // Copied: the sender may reuse its buffer after send() returns, as it may with SES.
      files: (message.attachments ?? []).map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        content: a.content.slice(),
      })),
    });
  }
  /** The mails sent, oldest first; attachments by name, type and size only, so the list stays JSON. */
  list(): readonly OutboxEntry[] {
    return this.#entries.map(({ files, ...entry }) => ({
      ...entry,
      attachments: files.map((f) => ({ filename: f.filename, contentType: f.contentType, size: f.content.byteLength })),
    }));
  }
  /** The bytes of one attachment (the first of that name), for the local stack to serve. */
  attachment(messageId: number, filename: string): Uint8Array | undefined {
    const file = this.#entries.find((e) => e.id === messageId)?.files.find((f) => f.filename === filename);
    return file?.content.slice();
  }
}
