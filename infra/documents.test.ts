import { existsSync } from "node:fs";
import { basename } from "node:path";
import { PDFDict, PDFDocument, PDFName } from "pdf-lib";
import { pageTexts } from "../test/pdf-text.js";
import { describe, expect, it } from "vitest";
import { renderInvoiceCsv, renderInvoicePdf, renderReportCsv, renderReportXlsx } from "./documents.js";
import type { ConsumptionReport, InvoiceDocument, InvoiceDocumentLine } from "./documents.js";
import { FONT_FILES } from "./documents/font-files.js";
import { INVOICE_FONTS } from "../stacks/function-defaults.js";

/**
 * The worked example of DESIGN 1 (Billing): a distributor billed in EUR for its own Enterprise 15 × 2.80
 * and Business 12 × 1.20, and its reseller's Enterprise 20 × 2.80 and Business 10 × 1.20:
 * net 124.40, VAT 20 % 24.88, total 149.28. Names are invented.
 */
const worked: InvoiceDocument = {
  number: "INV00000001",
  issuer: { name: "Skyline Telecom Cloud" },
  billTo: { name: "Northwind Distribution", country: "GB", reference: "PO-7781" },
  period: "2026-10",
  issuedAt: "2026-11-01T00:00:00.000Z",
  dueAt: "2026-12-01T00:00:00.000Z",
  currency: "EUR",
  taxRatePercent: "20",
  net: "124.40",
  vat: "24.88",
  discount: "0.00",
  total: "149.28",
  lineCount: 4,
  summary: null,
  lines: [
    line("ENT-M", "Enterprise, price per user per month", 15, "2.80", "42.00", "Northwind Distribution", null, null),
    line("BUS-M", "Business, price per user per month", 12, "1.20", "14.40", "Northwind Distribution", null, null),
    line(
      "ENT-M",
      "Enterprise, price per user per month",
      20,
      "2.80",
      "56.00",
      "Harbour Resellers",
      "Harbour Resellers",
      null,
    ),
    line(
      "BUS-M",
      "Business, price per user per month",
      10,
      "1.20",
      "12.00",
      "Harbour Resellers",
      "Harbour Resellers",
      null,
    ),
  ],
};

function line(
  sku: string,
  description: string,
  quantity: number,
  unitPrice: string,
  amount: string,
  customer: string,
  tier1: string | null,
  tier2: string | null,
): InvoiceDocumentLine {
  return {
    sku,
    description,
    kind: "MONTHLY",
    quantity,
    unitPrice,
    amount,
    customer,
    tier1,
    tier2,
    from: "2026-10-01",
    to: "2026-10-31",
  };
}

/** A small RFC 4180 reader: quoted fields, doubled quotes, CRLF between records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      expect(field, "a quote opens a field only at its start").toBe("");
      quoted = true;
      i++;
    } else if (c === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
    } else {
      expect(c, "bare CR or LF outside quotes").not.toMatch(/[\r\n]/);
      field += c;
      i++;
    }
  }
  expect(quoted, "unterminated quoted field").toBe(false);
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe("renderInvoicePdf", () => {
  it("draws the worked example: parties, lines and totals, titled with the number", async () => {
    // Act
    const bytes = await renderInvoicePdf(worked);

    // Assess
    expect(Buffer.from(bytes.subarray(0, 5)).toString("latin1")).toBe("%PDF-");
    const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
    expect(pdf.getTitle()).toBe("INV00000001");
    expect(pdf.getPageCount()).toBe(1);
    const { width, height } = pdf.getPage(0).getSize();
    expect([Math.round(width), Math.round(height)]).toEqual([595, 842]);

    const [texts = []] = await pageTexts(bytes);
    const all = texts.join("\n");
    for (const s of [
      "Skyline Telecom Cloud",
      "Northwind Distribution",
      "Harbour Resellers",
      "United Kingdom",
      "Your reference: PO-7781",
    ]) {
      expect(all).toContain(s);
    }
    for (const s of ["INV00000001", "October 2026", "2026-11-01", "2026-12-01"]) expect(texts).toContain(s);
    for (const s of ["42.00", "14.40", "56.00", "12.00", "2.80", "1.20", "15", "12", "20", "10"])
      expect(texts).toContain(s);
    expect(texts).toContain("EUR 124.40");
    expect(texts).toContain("VAT 20 %");
    expect(texts).toContain("EUR 24.88");
    expect(texts).toContain("EUR 149.28");
    expect(texts.filter((t) => t === "Northwind Distribution").length).toBeGreaterThanOrEqual(3); // bill-to + 2 lines
    expect(texts).toContain("Page 1 of 1");
  });

  it("prints what a VAT auditor looks for: the billed party's address, VAT id and purchase order, each line's service period, a discount row", async () => {
    // Act
    const bytes = await renderInvoicePdf({
      ...worked,
      issuer: {
        name: "Skyline Telecom Cloud",
        address: "1 Cloud Way\nLondon",
        vatId: "GB123456789",
        companyNumber: "01234567",
      },
      billTo: {
        ...worked.billTo,
        address: "12 Harbour Street\nBristol BS1 4QA",
        vatId: "GB987654321",
        purchaseOrder: "PO-2026-118",
      },
    });
    // Assess
    const [texts = []] = await pageTexts(bytes);
    for (const s of [
      "12 Harbour Street",
      "Bristol BS1 4QA",
      "VAT ID: GB987654321",
      "Purchase order: PO-2026-118",
      "Discount",
      "EUR -0.00",
    ])
      expect(texts).toContain(s);
    expect(texts.join("\n")).toContain("(1-31 Oct 2026)");
    // The totals are unchanged: net 124.40, VAT 24.88, total 149.28.
    for (const s of ["EUR 124.40", "EUR 24.88", "EUR 149.28"]) expect(texts).toContain(s);
  });

  it("draws a large invoice as its summary by offer, never as 'No charges'", async () => {
    // Prepare: the billing run hands large invoices over as a summary, with no line detail.
    const large = {
      ...worked,
      lineCount: 24_000,
      lines: [],
      summary: [
        {
          sku: "ENT-M",
          description: "Enterprise",
          kind: "MONTHLY",
          quantity: 15_000,
          customers: 8_000,
          amount: "42000.00",
        },
        {
          sku: "BUS-M",
          description: "Business",
          kind: "MONTHLY",
          quantity: 9_000,
          customers: 6_000,
          amount: "10800.00",
        },
      ],
    };
    // Act
    const [texts = []] = await pageTexts(await renderInvoicePdf(large));
    // Assess
    const all = texts.join("\n");
    expect(all).not.toContain("No charges for this period.");
    expect(all).toContain("Summary by offer of 24000 lines");
    expect(all).toContain("ENT-M  Enterprise (MONTHLY): 15000 for 8000 customers");
    expect(texts).toContain("EUR 42000.00");
    expect(texts).toContain("EUR 10800.00");
  });

  it("renders the same bytes for the same invoice (a billing rerun changes nothing)", async () => {
    const a = await renderInvoicePdf(worked);
    const b = await renderInvoicePdf(worked);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it("paginates 200 lines, repeating the table header, with totals on the last page", async () => {
    // Prepare
    const lines = Array.from({ length: 200 }, (_, i) =>
      line(
        `SKU-${i}`,
        `Line ${i}`,
        i + 1,
        "1.00",
        `${i + 1}.00`,
        `Customer ${String(i).padStart(3, "0")}`,
        "Reseller A",
        i % 2 ? "Sub-reseller B" : null,
      ),
    );

    // Act
    const bytes = await renderInvoicePdf({ ...worked, lines, net: "20100.00", vat: "4020.00", total: "24120.00" });

    // Assess
    const pages = await pageTexts(bytes);
    expect(pages.length).toBeGreaterThan(3);
    pages.forEach((texts, i) => {
      expect(texts).toContain(`Page ${i + 1} of ${pages.length}`);
      expect(texts).toContain("Customer");
      expect(texts).toContain("Description");
    });
    const drawn = pages.flat();
    for (let i = 0; i < 200; i++) expect(drawn, `line ${i}`).toContain(`Customer ${String(i).padStart(3, "0")}`);
    expect(pages.at(-1)).toContain("EUR 24120.00");
    expect(pages.slice(0, -1).flat()).not.toContain("EUR 24120.00");
    expect(pages[1]?.some((t) => t.includes("INV00000001") && t.includes("continued"))).toBe(true);
  });

  it("prints names in Latin, Greek, Cyrillic, Chinese and Japanese as typed; '?' only for what no font has", async () => {
    // Prepare
    const doc: InvoiceDocument = {
      ...worked,
      billTo: { name: "Zürich 株式会社", country: "CH", address: "東京都千代田区\nΑθήνα, Ελλάδα" },
      lines: [
        line(
          "ENT-M",
          "Enterprise\nmonthly\t€",
          1,
          "2.80",
          "2.80",
          "Dvořák & Søn — Łódź",
          "Москва Телеком",
          "Seoul 서울 Telecom",
        ),
      ],
    };

    // Act
    const bytes = await renderInvoicePdf(doc);

    // Assess: each run of one font is its own text object; a line's runs follow each other.
    const drawn = (await pageTexts(bytes)).flat().join("");
    for (const name of [
      "Zürich 株式会社",
      "東京都千代田区",
      "Αθήνα, Ελλάδα",
      "Dvořák & Søn — Łódź",
      "Москва Телеком",
      "Enterprise monthly €",
      "Switzerland",
    ])
      expect(drawn).toContain(name);
    // Hangul is in neither font: it prints as "?" rather than stopping the invoice.
    expect(drawn).toContain("Seoul ?? Telecom");
    // Only the glyphs used are embedded: the file stays small.
    expect(bytes.length).toBeLessThan(120_000);
  });

  it("the stacks copy every font file the renderer reads into the functions that render PDFs", () => {
    expect(INVOICE_FONTS.map((f) => f.to).sort()).toEqual(
      Object.values(FONT_FILES)
        .map((spec) => `fonts/${basename(spec)}`)
        .sort(),
    );
    for (const f of INVOICE_FONTS) expect(existsSync(f.from), f.from).toBe(true);
  });

  it("embeds fonts only when a document needs them: none for WinAnsi text, DejaVu for other scripts, Noto Sans SC for CJK", async () => {
    const fonts = async (doc: InvoiceDocument) => {
      const d = await PDFDocument.load(await renderInvoicePdf(doc));
      return [
        ...new Set(
          d.context
            .enumerateIndirectObjects()
            .map(([, o]) => (o instanceof PDFDict ? o.lookup(PDFName.of("BaseFont")) : undefined))
            .filter((n): n is PDFName => n instanceof PDFName)
            .map((n) => n.decodeText()),
        ),
      ].sort();
    };
    expect(await fonts(worked)).toEqual(["Helvetica", "Helvetica-Bold"]);
    expect(await fonts({ ...worked, billTo: { name: "Zürich Straße Ærø", country: "CH" } })).toEqual([
      "Helvetica",
      "Helvetica-Bold",
    ]);
    expect(await fonts({ ...worked, billTo: { name: "Москва Телеком", country: "RU" } })).toEqual([
      "DejaVuSansCondensed",
      "DejaVuSansCondensed-Bold",
    ]);
    expect(await fonts({ ...worked, billTo: { name: "株式会社", country: "JP" } })).toEqual([
      "DejaVuSansCondensed",
      "DejaVuSansCondensed-Bold",
      "NotoSansSC-Bold",
      "NotoSansSC-Regular",
    ]);
  });

  it("cuts over-long names with an ellipsis rather than overflowing the row", async () => {
    const long = "Very Long Company Name ".repeat(20).trim();
    const bytes = await renderInvoicePdf({ ...worked, lines: [line("X", "y", 1, "1.00", "1.00", long, null, null)] });
    const drawn = (await pageTexts(bytes)).flat();
    expect(drawn.some((t) => t.endsWith("\u2026"))).toBe(true);
  });
});

describe("renderInvoiceCsv", () => {
  it("has a header, one row per line of the worked example, then the net, VAT and total rows", async () => {
    // Act
    const csv = await renderInvoiceCsv(worked);

    // Assess
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([
      "invoice_number",
      "period",
      "currency",
      "customer",
      "tier1_partner",
      "tier2_partner",
      "sku",
      "description",
      "kind",
      "service_from",
      "service_to",
      "quantity",
      "unit_price",
      "amount",
    ]);
    const M = ["2026-10-01", "2026-10-31"];
    expect(rows.slice(1)).toEqual([
      [
        "INV00000001",
        "2026-10",
        "EUR",
        "Northwind Distribution",
        "",
        "",
        "ENT-M",
        "Enterprise, price per user per month",
        "MONTHLY",
        ...M,
        "15",
        "2.80",
        "42.00",
      ],
      [
        "INV00000001",
        "2026-10",
        "EUR",
        "Northwind Distribution",
        "",
        "",
        "BUS-M",
        "Business, price per user per month",
        "MONTHLY",
        ...M,
        "12",
        "1.20",
        "14.40",
      ],
      [
        "INV00000001",
        "2026-10",
        "EUR",
        "Harbour Resellers",
        "Harbour Resellers",
        "",
        "ENT-M",
        "Enterprise, price per user per month",
        "MONTHLY",
        ...M,
        "20",
        "2.80",
        "56.00",
      ],
      [
        "INV00000001",
        "2026-10",
        "EUR",
        "Harbour Resellers",
        "Harbour Resellers",
        "",
        "BUS-M",
        "Business, price per user per month",
        "MONTHLY",
        ...M,
        "10",
        "1.20",
        "12.00",
      ],
      ["INV00000001", "2026-10", "EUR", "", "", "", "", "", "NET", "", "", "", "", "124.40"],
      ["INV00000001", "2026-10", "EUR", "", "", "", "", "", "VAT 20%", "", "", "", "", "24.88"],
      ["INV00000001", "2026-10", "EUR", "", "", "", "", "", "TOTAL", "", "", "", "", "149.28"],
    ]);
    expect(csv.endsWith("\r\n")).toBe(true);
    expect(csv.split("\r\n")[1]).toBe(
      'INV00000001,2026-10,EUR,Northwind Distribution,,,ENT-M,"Enterprise, price per user per month",MONTHLY,2026-10-01,2026-10-31,15,2.80,42.00',
    );
    const sum = rows.slice(1, 5).reduce((acc, r) => acc + Math.round(Number(r[13]) * 100), 0);
    expect(sum).toBe(12440);
  });

  it("quotes commas, quotes and line breaks (RFC 4180) and keeps non-ASCII names", async () => {
    // Prepare
    const doc: InvoiceDocument = {
      ...worked,
      lines: [
        line("S", 'The "Pro" plan,\r\nyearly', 1, "1.00", "1.00", "Acme, Inc.", 'Say "hi"\nLtd', "Zürich 株式会社"),
      ],
    };

    // Act
    const csv = await renderInvoiceCsv(doc);

    // Assess
    expect(csv).toContain('"Acme, Inc.","Say ""hi""\nLtd",Zürich 株式会社,S,"The ""Pro"" plan,\r\nyearly"');
    const rows = parseCsv(csv);
    expect(rows).toHaveLength(5);
    expect(rows[1]?.slice(3, 8)).toEqual([
      "Acme, Inc.",
      'Say "hi"\nLtd',
      "Zürich 株式会社",
      "S",
      'The "Pro" plan,\r\nyearly',
    ]);
  });

  it("neutralises formula injection but leaves numeric amounts (credits) as numbers", async () => {
    // Prepare
    const doc: InvoiceDocument = {
      ...worked,
      lines: [
        line('=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", -2, "-1.20", "-2.40", "@SUM(A1:A9)", "-Evil", "\tTabbed"),
        line("ok", "ok", 1, "=1+1", "+1.00", "Plain", "\uFF1Dfullwidth", null),
      ],
    };

    // Act
    const rows = parseCsv(await renderInvoiceCsv(doc));

    // Assess
    expect(rows[1]?.slice(3)).toEqual([
      "'@SUM(A1:A9)",
      "'-Evil",
      "'\tTabbed",
      '\'=HYPERLINK("http://x")',
      "'+cmd|' /C calc'!A0",
      "MONTHLY",
      "2026-10-01",
      "2026-10-31",
      "-2",
      "-1.20",
      "-2.40",
    ]);
    expect(rows[2]?.slice(3)).toEqual([
      "Plain",
      "'\uFF1Dfullwidth",
      "",
      "ok",
      "ok",
      "MONTHLY",
      "2026-10-01",
      "2026-10-31",
      "1",
      "'=1+1",
      "+1.00",
    ]);
  });

  it("is the header and the totals for an invoice without lines", async () => {
    expect(await renderInvoiceCsv({ ...worked, lines: [] })).toBe(
      "invoice_number,period,currency,customer,tier1_partner,tier2_partner,sku,description,kind,service_from,service_to,quantity,unit_price,amount\r\n" +
        "INV00000001,2026-10,EUR,,,,,,NET,,,,,124.40\r\nINV00000001,2026-10,EUR,,,,,,VAT 20%,,,,,24.88\r\nINV00000001,2026-10,EUR,,,,,,TOTAL,,,,,149.28\r\n",
    );
  });
});

describe("the consumption detail report (streamed CSV with an optional BOM, and .xlsx)", () => {
  const report = (): ConsumptionReport => ({
    number: worked.number,
    period: worked.period,
    currency: worked.currency,
    taxRatePercent: worked.taxRatePercent,
    net: worked.net,
    vat: worked.vat,
    total: worked.total,
    lines: (async function* () {
      yield* worked.lines;
    })(),
  });
  const csv = async (bom: boolean) => {
    let out = "";
    for await (const chunk of renderReportCsv(report(), { bom })) out += chunk;
    return out;
  };

  it("starts with a UTF-8 byte order mark only when asked (?bom=1), and ends with the net, VAT and total rows of the worked example", async () => {
    const plain = await csv(false);
    const withBom = await csv(true);
    expect(plain.startsWith("invoice_number,")).toBe(true);
    expect(withBom).toBe(`\uFEFF${plain}`);
    expect(Buffer.from(withBom, "utf8").subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = plain.trimEnd().split("\r\n");
    expect(rows).toHaveLength(1 + worked.lines.length + 3);
    expect(rows.slice(-3).map((r) => r.split(",").filter(Boolean).slice(-2))).toEqual([
      ["NET", "124.40"],
      ["VAT 20%", "24.88"],
      ["TOTAL", "149.28"],
    ]);
  });

  it("writes an .xlsx workbook with one row per line (amounts as numbers) and the net, VAT and total rows: EUR 124.40, 24.88, 149.28", async () => {
    const bytes = await renderReportXlsx(report());
    expect(Buffer.from(bytes.subarray(0, 2)).toString("latin1")).toBe("PK");
    const { default: ExcelJS } = await import("exceljs");
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(bytes) as unknown as Parameters<typeof book.xlsx.load>[0]);
    const sheet = book.worksheets[0]!;
    expect(sheet.name).toBe("Invoice INV00000001");
    const values = (r: number) => (sheet.getRow(r).values as unknown[]).slice(1);
    expect(values(1)).toEqual([
      "Customer",
      "Tier-1 partner",
      "Tier-2 partner",
      "SKU",
      "Description",
      "Kind",
      "Service from",
      "Service to",
      "Quantity",
      "Unit price (EUR)",
      "Amount (EUR)",
    ]);
    // (empty cells read back as absent)
    expect(values(2)).toEqual([
      "Northwind Distribution",
      undefined,
      undefined,
      "ENT-M",
      "Enterprise, price per user per month",
      "MONTHLY",
      "2026-10-01",
      "2026-10-31",
      15,
      2.8,
      42,
    ]);
    expect(sheet.rowCount).toBe(1 + worked.lines.length + 3);
    const totals = [sheet.rowCount - 2, sheet.rowCount - 1, sheet.rowCount].map((r) => [
      sheet.getRow(r).getCell(5).value,
      sheet.getRow(r).getCell(11).value,
    ]);
    expect(totals).toEqual([
      ["Net amount (excl. VAT)", 124.4],
      ["VAT 20 %", 24.88],
      ["Total", 149.28],
    ]);
  });
});
