import { inflateSync } from "node:zlib";
import { PDFArray, PDFDict, PDFDocument, PDFName, PDFRawStream } from "pdf-lib";

/** A stream's bytes, inflated when it is FlateDecode. */
function streamText(s: unknown): string {
  if (!(s instanceof PDFRawStream)) return "";
  const flate = s.dict.get(PDFName.of("Filter")) === PDFName.of("FlateDecode");
  return Buffer.from(flate ? inflateSync(s.contents) : s.contents).toString("latin1");
}

/** A font's ToUnicode CMap: glyph id (4 hex digits, as Identity-H draws them) → the text it stands for. */
function toUnicode(cmap: string): Map<string, string> {
  const map = new Map<string, string>();
  const utf16 = (hex: string) => Buffer.from(hex, "hex").swap16().toString("utf16le");
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g))
    for (const m of (block[1] ?? "").matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g))
      map.set(m[1]!.toUpperCase().padStart(4, "0"), utf16(m[2]!));
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g))
    for (const m of (block[1] ?? "").matchAll(/<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>/g)) {
      const [from, to, dst] = [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16)];
      for (let g = from; g <= to; g++)
        map.set(g.toString(16).toUpperCase().padStart(4, "0"), String.fromCodePoint(dst + g - from));
    }
  return map;
}

/** WinAnsi (cp1252) 0x80-0x9F; the rest is Latin-1: how the standard fonts (Helvetica) encode text. */
const CP1252_HIGH =
  "\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178";
function decodeWinAnsi(hex: string): string {
  return Array.from(Buffer.from(hex, "hex"), (b) =>
    b >= 0x80 && b <= 0x9f ? (CP1252_HIGH[b - 0x80] ?? "\ufffd") : String.fromCharCode(b),
  ).join("");
}

/**
 * The text each page of a PDF draws, one string per text-showing operator: its content streams
 * inflated, each `<hex> Tj` decoded through the ToUnicode map of the font the last `Tf` selected
 * (embedded fonts, Identity-H), or as WinAnsi for a standard font (no ToUnicode). A run of one font
 * is one string: a line mixing scripts is several, in order.
 */
export async function pageTexts(bytes: Uint8Array): Promise<string[][]> {
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
  return pdf.getPages().map((page) => {
    const fonts = new Map<string, Map<string, string> | undefined>();
    const fontDict = page.node.Resources()?.lookup(PDFName.of("Font"), PDFDict);
    for (const [name, ref] of fontDict?.entries() ?? []) {
      const font = pdf.context.lookup(ref, PDFDict);
      const cmap = font.lookup(PDFName.of("ToUnicode"));
      fonts.set(name.decodeText(), cmap ? toUnicode(streamText(cmap)) : undefined);
    }
    const contents = page.node.Contents();
    const streams = contents instanceof PDFArray ? contents.asArray().map((r) => pdf.context.lookup(r)) : [contents];
    const ops = streams.map(streamText).join("\n");
    const texts: string[] = [];
    let current: Map<string, string> | undefined;
    for (const m of ops.matchAll(/\/(\S+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj/g)) {
      if (m[1] !== undefined) current = fonts.get(m[1]);
      else if (!current) texts.push(decodeWinAnsi(m[2]!));
      else {
        const map = current;
        texts.push((m[2]!.toUpperCase().match(/.{4}/g) ?? []).map((g) => map.get(g) ?? "\ufffd").join(""));
      }
    }
    return texts;
  });
}
