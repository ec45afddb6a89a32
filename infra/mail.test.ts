import { describe, expect, it } from "vitest";
import { OutboxMailer, buildRawMessage } from "./mail.js";
import type { MailMessage } from "./mail.js";

/** Bytes that look like a PDF and cover every byte value, so base64 round-trips are meaningful. */
const pdfBytes = new Uint8Array([
  ...Buffer.from("%PDF-1.7\n"),
  ...Array.from({ length: 3000 }, (_, i) => (i * 37) % 256),
]);

/** Splits a raw message into its headers (unfolded) and body. */
function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.indexOf("\r\n\r\n");
  const headers = new Map<string, string>();
  for (const h of raw
    .slice(0, at)
    .replace(/\r\n[ \t]/g, " ")
    .split("\r\n")) {
    const colon = h.indexOf(":");
    headers.set(h.slice(0, colon).toLowerCase(), h.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(at + 4) };
}

/** RFC 2047 decoding, B encoding only (what the builder writes); whitespace between encoded words is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=/g, (_, b64: string) => `\u0000${b64}\u0000`)
    .split("\u0000")
    .map((s, i) => (i % 2 ? Buffer.from(s, "base64") : Buffer.from(s, "utf8")))
    .reduce((acc, b) => Buffer.concat([acc, b]), Buffer.alloc(0))
    .toString("utf8");
}

function decodeQuotedPrintable(body: string): string {
  const bytes = Buffer.from(
    body.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    "latin1",
  );
  return bytes.toString("utf8");
}

const message: MailMessage = {
  to: "owner@northwind.example",
  subject: "Facture INV00000001 – période 2026-10, Zürich 株式会社 — a rather long subject that must fold",
  text: `Bonjour,\nvotre facture est jointe : 149.28 EUR, échéance 2026-12-01.\n${"x".repeat(200)} \nA=B`,
  attachments: [
    { filename: "INV00000001.pdf", contentType: "application/pdf", content: pdfBytes },
    {
      filename: 'détail "consommation".csv',
      contentType: "text/csv; charset=utf-8",
      content: Buffer.from("a,b\r\n1,2\r\n"),
    },
  ],
};

describe("buildRawMessage", () => {
  it("builds a multipart/mixed message whose parts decode back to the text and the bytes", () => {
    // Act
    const raw = buildRawMessage("Skyline Billing <billing@skyline.example>", message, "BOUNDARY_x1");

    // Assess: 7-bit, CRLF only, lines within RFC 5322 limits
    expect(raw).toMatch(/^[\x20-\x7e\r\n]*$/);
    expect(raw.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    for (const l of raw.split("\r\n")) expect(l.length, l).toBeLessThanOrEqual(78);

    const { headers, body } = splitHeaders(raw);
    expect(headers.get("from")).toBe("Skyline Billing <billing@skyline.example>");
    expect(headers.get("to")).toBe("owner@northwind.example");
    expect(headers.get("mime-version")).toBe("1.0");
    expect(headers.get("content-type")).toBe('multipart/mixed; boundary="BOUNDARY_x1"');
    expect(headers.get("subject")).toMatch(/^=\?UTF-8\?B\?/);
    expect(decodeWords(headers.get("subject") ?? "")).toBe(message.subject);
    for (const word of (headers.get("subject") ?? "").split(" ")) expect(word.length).toBeLessThanOrEqual(75);

    // Boundary structure: preamble, three parts, closing delimiter, nothing after.
    const chunks = body.split(/\r\n--BOUNDARY_x1/);
    expect(chunks).toHaveLength(5);
    expect(chunks.at(-1)).toBe("--\r\n");
    const [text, pdf, csv] = chunks.slice(1, -1).map((c) => {
      expect(c.startsWith("\r\n")).toBe(true);
      return splitHeaders(c.slice(2));
    });

    expect(text?.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
    expect(text?.headers.get("content-transfer-encoding")).toBe("quoted-printable");
    expect(decodeQuotedPrintable(text?.body ?? "").replace(/\r\n/g, "\n")).toBe(message.text);
    expect(text?.body).toContain("A=3DB");
    expect(text?.body).toContain("x=20\r\nA"); // trailing space before a line break is encoded

    expect(pdf?.headers.get("content-type")).toBe('application/pdf; name="INV00000001.pdf"');
    expect(pdf?.headers.get("content-disposition")).toBe('attachment; filename="INV00000001.pdf"');
    expect(pdf?.headers.get("content-transfer-encoding")).toBe("base64");
    const lines = (pdf?.body ?? "").split("\r\n");
    expect(lines.slice(0, -1).every((l) => l.length === 76)).toBe(true);
    expect(Buffer.from(lines.join(""), "base64").equals(Buffer.from(pdfBytes))).toBe(true);

    expect(csv?.headers.get("content-type")).toMatch(/^text\/csv; charset=utf-8; name="=\?UTF-8\?B\?/);
    expect(csv?.headers.get("content-disposition")).toBe(
      "attachment; filename*=UTF-8''d%C3%A9tail%20%22consommation%22.csv",
    );
    expect(Buffer.from(csv?.body ?? "", "base64").toString()).toBe("a,b\r\n1,2\r\n");
  });

  it("leaves a plain ASCII subject readable and picks a fresh random boundary each time", () => {
    const a = buildRawMessage("billing@skyline.example", { ...message, subject: "Invoice INV00000001 for 2026-10" });
    const b = buildRawMessage("billing@skyline.example", { ...message, subject: "Invoice INV00000001 for 2026-10" });
    expect(splitHeaders(a).headers.get("subject")).toBe("Invoice INV00000001 for 2026-10");
    const boundary = (raw: string) => /boundary="([^"]+)"/.exec(raw)?.[1];
    expect(boundary(a)).toMatch(/^[\w=.-]{30,70}$/);
    expect(boundary(a)).not.toBe(boundary(b));
    for (const l of a.split("\r\n")) expect(l.length, l).toBeLessThanOrEqual(78);
  });

  it("refuses header injection through the address and flattens it out of subject and file names", () => {
    expect(() =>
      buildRawMessage("billing@skyline.example", { ...message, to: "a@x.example\r\nBcc: victim@y.example" }),
    ).toThrow(/line break/);
    const raw = buildRawMessage("billing@skyline.example", {
      ...message,
      subject: "Hi\r\nBcc: victim@y.example",
      attachments: [{ filename: "a\r\nX-Evil: 1.pdf", contentType: "application/pdf\r\nX-Evil: 1", content: pdfBytes }],
    });
    expect(raw).not.toMatch(/^(Bcc|X-Evil):/m);
    expect(raw).toContain("Content-Type: application/octet-stream;");
  });

  it("encodes a non-ASCII display name in From", () => {
    const raw = buildRawMessage("Société Générale Télécom <billing@sgt.example>", message, "B");
    const from = splitHeaders(raw).headers.get("from") ?? "";
    expect(from).toMatch(/^=\?UTF-8\?B\?.*\?= <billing@sgt\.example>$/);
    expect(decodeWords(from)).toBe("Société Générale Télécom <billing@sgt.example>");
  });
});

describe("OutboxMailer", () => {
  it("keeps attachments, lists them JSON-safe and serves their bytes", async () => {
    // Prepare
    const outbox = new OutboxMailer("no-reply@localhost", () => new Date("2026-11-01T06:00:00.000Z"));
    const content = new Uint8Array(pdfBytes);

    // Act
    await outbox.send({ to: "a@x.example", subject: "Welcome", text: "hello" });
    await outbox.send(
      message.attachments ? { ...message, attachments: [{ ...message.attachments[0]!, content }] } : message,
    );
    content.fill(0); // the sender reusing its buffer does not change what was sent

    // Assess
    const list = outbox.list();
    expect(list).toEqual([
      {
        id: 1,
        from: "no-reply@localhost",
        sentAt: "2026-11-01T06:00:00.000Z",
        to: "a@x.example",
        subject: "Welcome",
        text: "hello",
        attachments: [],
      },
      {
        id: 2,
        from: "no-reply@localhost",
        sentAt: "2026-11-01T06:00:00.000Z",
        to: message.to,
        subject: message.subject,
        text: message.text,
        attachments: [{ filename: "INV00000001.pdf", contentType: "application/pdf", size: pdfBytes.byteLength }],
      },
    ]);
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
    const bytes = outbox.attachment(2, "INV00000001.pdf");
    expect(bytes && Buffer.from(bytes).equals(Buffer.from(pdfBytes))).toBe(true);
    expect(outbox.attachment(2, "other.pdf")).toBeUndefined();
    expect(outbox.attachment(1, "INV00000001.pdf")).toBeUndefined();
    expect(outbox.attachment(9, "INV00000001.pdf")).toBeUndefined();
  });

  it("refuses an address with a line break, as SES would", async () => {
    const outbox = new OutboxMailer("no-reply@localhost", () => new Date());
    await expect(outbox.send({ to: "a@x.example\nBcc: b@y.example", subject: "s", text: "t" })).rejects.toThrow();
    expect(outbox.list()).toEqual([]);
  });
});
