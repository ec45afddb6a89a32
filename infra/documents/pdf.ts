import { PDFDocument, rgb } from "pdf-lib";
import type { PDFPage, RGB } from "pdf-lib";
import { embedFonts } from "./fonts.js";
import type { FontSet } from "./fonts.js";
import { countryName, formatDate, formatPeriod, parseInstant, servicePeriod } from "./text.js";
import type { InvoiceDocument, InvoiceDocumentLine } from "./model.js";

// ---------------------------------------------------------------------------------------------
// PDF

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 42;
const FOOTER_SPACE = 28;
const INK = rgb(0.12, 0.12, 0.14);
const MUTED = rgb(0.42, 0.43, 0.46);
const RULE = rgb(0.8, 0.81, 0.83);
const BAND = rgb(0.93, 0.94, 0.95);
const ACCENT = rgb(0.1, 0.25, 0.45);

const BODY_SIZE = 7.5;
const BODY_LEADING = 9.2;
const CELL_PAD_X = 3;
const CELL_PAD_Y = 3.5;
/** A name or description longer than this many lines is cut with an ellipsis (the CSV keeps it whole). */
const MAX_CELL_LINES = 4;

interface Column {
  readonly header: string;
  readonly width: number;
  readonly align: "left" | "right";
  readonly value: (line: InvoiceDocumentLine) => string;
}

function columns(currency: string): readonly Column[] {
  // Widths add up to the A4 content width (595.28 - 2 × 42 = 511.28).
  return [
    { header: "Customer", width: 92, align: "left", value: (l) => l.customer },
    { header: "Tier-1 partner", width: 66, align: "left", value: (l) => l.tier1 ?? "" },
    { header: "Tier-2 partner", width: 66, align: "left", value: (l) => l.tier2 ?? "" },
    { header: "SKU", width: 50, align: "left", value: (l) => l.sku },
    // With its service period (first and last day), as an auditor reads each charge.
    {
      header: "Description",
      width: 108.28,
      align: "left",
      value: (l) => `${l.description} (${servicePeriod(l.from, l.to)})`,
    },
    { header: "Qty", width: 28, align: "right", value: (l) => String(l.quantity) },
    { header: `Unit price (${currency})`, width: 45, align: "right", value: (l) => l.unitPrice },
    { header: `Amount (${currency})`, width: 56, align: "right", value: (l) => l.amount },
  ];
}

/**
 * The invoice as a PDF (A4, DejaVu Sans with Noto Sans SC for Chinese and Japanese, embedded as
 * subsets of the glyphs used: names in any European script, Greek, Cyrillic or CJK print as typed).
 * Deterministic: the same document renders the same bytes, as a billing rerun must.
 */
export async function renderInvoicePdf(doc: InvoiceDocument): Promise<Uint8Array> {
  const pdf = await PDFDocument.create({ updateMetadata: false });
  const { regular, bold } = await embedFonts(pdf, [JSON.stringify(doc)]);
  const text = drawable(regular);
  const currency = text(doc.currency);

  const issued = parseInstant(doc.issuedAt);
  pdf.setTitle(doc.number, { showInWindowTitleBar: true });
  pdf.setAuthor(doc.issuer.name);
  pdf.setSubject(`Invoice ${doc.number} for ${doc.period}, ${doc.billTo.name}`);
  pdf.setCreator(doc.issuer.name);
  pdf.setProducer("channel-partner-api");
  pdf.setLanguage("en");
  if (issued) {
    pdf.setCreationDate(issued);
    pdf.setModificationDate(issued);
  }

  const cols = columns(currency);
  const w = new Writer(pdf, regular, bold);

  // Header: issuer on the left, the document's identity on the right.
  let page = w.newPage();
  const top = A4[1] - MARGIN;
  const half = (A4[0] - 2 * MARGIN) / 2;
  const right = A4[0] - MARGIN;
  let leftY = top - 14;
  for (const l of wrap(text(doc.issuer.name), bold, 15, half - 10, 2)) {
    w.draw(page, l, MARGIN, leftY, bold, 15, ACCENT);
    leftY -= 18;
  }
  w.drawRight(page, "INVOICE", right, top - 16, bold, 20, INK);

  const meta: [string, string][] = [
    ["Invoice number", text(doc.number)],
    ["Period", formatPeriod(doc.period)],
    ["Issue date", formatDate(doc.issuedAt)],
    ["Due date", formatDate(doc.dueAt)],
    ["Currency", currency],
  ];
  let rightY = top - 40;
  for (const [label, value] of meta) {
    w.drawRight(page, value, right, rightY, bold, 9, INK);
    w.drawRight(page, label, right - 110, rightY, regular, 9, MUTED);
    rightY -= 13;
  }

  // Bill-to block.
  leftY = Math.min(leftY, top - 40) - 6;
  w.draw(page, "BILL TO", MARGIN, leftY, bold, 7.5, MUTED);
  leftY -= 13;
  for (const l of wrap(text(doc.billTo.name), bold, 10.5, half - 10, 3)) {
    w.draw(page, l, MARGIN, leftY, bold, 10.5, INK);
    leftY -= 13;
  }
  for (const line of (doc.billTo.address ?? "").split("\n").filter(Boolean).slice(0, 6)) {
    for (const l of wrap(text(line), regular, 9, half - 10, 1)) {
      w.draw(page, l, MARGIN, leftY, regular, 9, INK);
      leftY -= 12;
    }
  }
  w.draw(page, text(countryName(doc.billTo.country)), MARGIN, leftY, regular, 9, INK);
  leftY -= 12;
  for (const [label, value] of [
    ["VAT ID", doc.billTo.vatId],
    ["Purchase order", doc.billTo.purchaseOrder],
  ] as const) {
    if (!value) continue;
    for (const l of wrap(`${label}: ${text(value)}`, regular, 9, half - 10, 1)) {
      w.draw(page, l, MARGIN, leftY, regular, 9, INK);
      leftY -= 12;
    }
  }
  if (doc.billTo.reference) {
    for (const l of wrap(`Your reference: ${text(doc.billTo.reference)}`, regular, 9, half - 10, 2)) {
      w.draw(page, l, MARGIN, leftY, regular, 9, MUTED);
      leftY -= 12;
    }
  }

  let y = Math.min(leftY, rightY) - 18;
  w.draw(page, "CHARGES", MARGIN, y, bold, 8, MUTED);
  y -= 8;
  y = drawTableHeader(w, page, cols, y);

  const bottom = MARGIN + FOOTER_SPACE;
  for (const line of doc.lines) {
    const cells = cols.map((c) =>
      wrap(text(c.value(line)), regular, BODY_SIZE, c.width - 2 * CELL_PAD_X, MAX_CELL_LINES),
    );
    const height = Math.max(1, ...cells.map((c) => c.length)) * BODY_LEADING + 2 * CELL_PAD_Y;
    if (y - height < bottom) {
      page = w.newPage();
      y = drawContinuationHeader(w, page, doc, text);
      y = drawTableHeader(w, page, cols, y);
    }
    let x = MARGIN;
    cols.forEach((col, i) => {
      let ly = y - CELL_PAD_Y - BODY_SIZE;
      for (const l of cells[i] ?? []) {
        if (col.align === "right") w.drawRight(page, l, x + col.width - CELL_PAD_X, ly, regular, BODY_SIZE, INK);
        else w.draw(page, l, x + CELL_PAD_X, ly, regular, BODY_SIZE, INK);
        ly -= BODY_LEADING;
      }
      x += col.width;
    });
    y -= height;
    page.drawLine({ start: { x: MARGIN, y }, end: { x: right, y }, thickness: 0.4, color: RULE });
  }
  if (doc.lines.length === 0 && doc.summary && doc.summary.length > 0) {
    // Large invoices: one row per offer; the line detail is the consumption report (CSV, xlsx).
    y -= 16;
    w.draw(
      page,
      `Summary by offer of ${doc.lineCount} lines; the line detail is the consumption report.`,
      MARGIN + CELL_PAD_X,
      y,
      regular,
      8.5,
      MUTED,
    );
    y -= 6;
    for (const row of doc.summary) {
      if (y - BODY_LEADING - 2 * CELL_PAD_Y < bottom) {
        page = w.newPage();
        y = drawContinuationHeader(w, page, doc, text);
      }
      y -= CELL_PAD_Y + BODY_SIZE;
      w.draw(
        page,
        `${row.sku}  ${text(row.description)} (${row.kind}): ${row.quantity} for ${row.customers} customers`,
        MARGIN + CELL_PAD_X,
        y,
        regular,
        BODY_SIZE,
        INK,
      );
      w.drawRight(page, `${currency} ${row.amount}`, right - CELL_PAD_X, y, regular, BODY_SIZE, INK);
      y -= CELL_PAD_Y;
      page.drawLine({ start: { x: MARGIN, y }, end: { x: right, y }, thickness: 0.4, color: RULE });
    }
  } else if (doc.lines.length === 0) {
    y -= 16;
    w.draw(page, "No charges for this period.", MARGIN + CELL_PAD_X, y, regular, 8.5, MUTED);
    y -= 6;
  }

  // Totals, kept together on one page.
  const totalsHeight = 106;
  if (y - totalsHeight < bottom) {
    page = w.newPage();
    y = drawContinuationHeader(w, page, doc, text);
  }
  y -= 20;
  const labelX = right - 210;
  const totals: [string, string][] = [
    ["Net amount (excl. VAT)", text(doc.net)],
    // Every adjustment is stated, a zero discount too.
    ["Discount", `-${text(doc.discount)}`],
    [`VAT ${text(doc.taxRatePercent)} %`, text(doc.vat)],
  ];
  for (const [label, value] of totals) {
    w.draw(page, label, labelX, y, regular, 9, INK);
    w.drawRight(page, `${currency} ${value}`, right, y, regular, 9, INK);
    y -= 14;
  }
  page.drawLine({ start: { x: labelX, y: y + 8 }, end: { x: right, y: y + 8 }, thickness: 0.8, color: INK });
  y -= 6;
  w.draw(page, "Total due", labelX, y, bold, 11, INK);
  w.drawRight(page, `${currency} ${text(doc.total)}`, right, y, bold, 11, INK);
  y -= 22;
  w.drawRight(
    page,
    `Payment due by ${formatDate(doc.dueAt)}. Please quote ${text(doc.number)} with your payment.`,
    right,
    y,
    regular,
    7.5,
    MUTED,
  );

  // Footers last, once the page count is known.
  const pages = pdf.getPages();
  pages.forEach((p, i) => {
    p.drawLine({
      start: { x: MARGIN, y: MARGIN + 12 },
      end: { x: right, y: MARGIN + 12 },
      thickness: 0.4,
      color: RULE,
    });
    const left = wrap(`${text(doc.issuer.name)} - Invoice ${text(doc.number)}`, regular, 7, 380, 1)[0] ?? "";
    w.draw(p, left, MARGIN, MARGIN, regular, 7, MUTED);
    w.drawRight(p, `Page ${i + 1} of ${pages.length}`, right, MARGIN, regular, 7, MUTED);
  });

  // No object streams: PDF 1.4-compatible readers (and archival tools) open it.
  return pdf.save({ useObjectStreams: false });
}

class Writer {
  constructor(
    private readonly pdf: PDFDocument,
    readonly regular: FontSet,
    readonly bold: FontSet,
  ) {}
  newPage(): PDFPage {
    return this.pdf.addPage(A4);
  }
  draw(page: PDFPage, s: string, x: number, y: number, font: FontSet, size: number, color: RGB): void {
    if (s) font.draw(page, s, { x, y, size, color });
  }
  drawRight(page: PDFPage, s: string, right: number, y: number, font: FontSet, size: number, color: RGB): void {
    if (s) font.draw(page, s, { x: right - font.widthOfTextAtSize(s, size), y, size, color });
  }
}

function drawTableHeader(w: Writer, page: PDFPage, cols: readonly Column[], y: number): number {
  const cells = cols.map((c) => wrap(c.header, w.bold, BODY_SIZE, c.width - 2 * CELL_PAD_X, 2));
  const height = Math.max(...cells.map((c) => c.length)) * BODY_LEADING + 2 * CELL_PAD_Y;
  page.drawRectangle({ x: MARGIN, y: y - height, width: A4[0] - 2 * MARGIN, height, color: BAND });
  let x = MARGIN;
  cols.forEach((col, i) => {
    let ly = y - CELL_PAD_Y - BODY_SIZE;
    for (const l of cells[i] ?? []) {
      if (col.align === "right") w.drawRight(page, l, x + col.width - CELL_PAD_X, ly, w.bold, BODY_SIZE, INK);
      else w.draw(page, l, x + CELL_PAD_X, ly, w.bold, BODY_SIZE, INK);
      ly -= BODY_LEADING;
    }
    x += col.width;
  });
  return y - height;
}

/** Pages after the first repeat who and what, so a loose page can still be matched to its invoice. */
function drawContinuationHeader(w: Writer, page: PDFPage, doc: InvoiceDocument, text: (s: string) => string): number {
  const top = A4[1] - MARGIN;
  const right = A4[0] - MARGIN;
  const name = wrap(text(doc.issuer.name), w.bold, 10, 250, 1)[0] ?? "";
  w.draw(page, name, MARGIN, top - 10, w.bold, 10, ACCENT);
  w.drawRight(
    page,
    `Invoice ${text(doc.number)} - ${formatPeriod(doc.period)} (continued)`,
    right,
    top - 10,
    w.regular,
    9,
    MUTED,
  );
  const billTo = wrap(`Bill to: ${text(doc.billTo.name)}`, w.regular, 8, A4[0] - 2 * MARGIN, 1)[0] ?? "";
  w.draw(page, billTo, MARGIN, top - 24, w.regular, 8, MUTED);
  return top - 36;
}

/**
 * Greedy word wrap to `width`; words wider than a line are broken by character. Past `maxLines`
 * the last line ends with an ellipsis.
 */
function wrap(s: string, font: FontSet, size: number, width: number, maxLines: number): string[] {
  const fits = (t: string) => font.widthOfTextAtSize(t, size) <= width;
  const lines: string[] = [];
  let current = "";
  for (const word of s.split(" ").filter((x) => x !== "")) {
    const candidate = current ? `${current} ${word}` : word;
    if (fits(candidate)) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    let rest = word;
    while (!fits(rest)) {
      let n = 1;
      const chars = Array.from(rest);
      while (n < chars.length && fits(chars.slice(0, n + 1).join(""))) n++;
      lines.push(chars.slice(0, n).join(""));
      rest = chars.slice(n).join("");
    }
    current = rest;
  }
  if (current) lines.push(current);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = `${kept[maxLines - 1] ?? ""}`;
  while (last && !fits(`${last}\u2026`)) last = Array.from(last).slice(0, -1).join("");
  kept[maxLines - 1] = `${last.trimEnd()}\u2026`;
  return kept;
}

/**
 * Names come from users. Keep what the fonts draw, fold a letter to its base letter when no font
 * has the accented form, drop invisible marks, and draw "?" for the rest (Hangul, emoji), so a
 * name never stops an invoice from rendering.
 */
function drawable(font: FontSet): (s: string) => string {
  const supported = { has: (cp: number) => font.draws(cp) };
  return (s: string) => {
    let out = "";
    for (const ch of s.normalize("NFC")) {
      const cp = ch.codePointAt(0) ?? 0;
      if (cp < 0x20 || /\s/u.test(ch)) {
        out += " ";
      } else if (supported.has(cp)) {
        out += ch;
      } else if (/[\p{M}\p{Cf}]/u.test(ch)) {
        // A stray combining mark, variation selector or zero-width character: nothing to draw.
      } else {
        const base = ch.normalize("NFKD").replace(/\p{M}/gu, "");
        out += base && Array.from(base).every((c) => supported.has(c.codePointAt(0) ?? 0)) ? base : "?";
      }
    }
    return out.replace(/ {2,}/g, " ").trim();
  };
}
