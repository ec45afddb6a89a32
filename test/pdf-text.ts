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

/**
 * The text each page of a PDF draws, one string per text-showing operator: its content streams
 * inflated, each `<hex> Tj` decoded through the ToUnicode map of the font the last `Tf` selected
 * (the invoice's fonts are embedded, Identity-H). A run of one font is one string: a line mixing
 * scripts is several, in order.
 */
export async function pageTexts(bytes: Uint8Array): Promise<string[][]> {
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
  return pdf.getPages().map((page) => {
    const fonts = new Map<string, Map<string, string>>();
    const fontDict = page.node.Resources()?.lookup(PDFName.of("Font"), PDFDict);
    for (const [name, ref] of fontDict?.entries() ?? []) {
      const font = pdf.context.lookup(ref, PDFDict);
      fonts.set(name.decodeText(), toUnicode(streamText(font.lookup(PDFName.of("ToUnicode")))));
    }
    const contents = page.node.Contents();
    const streams = contents instanceof PDFArray ? contents.asArray().map((r) => pdf.context.lookup(r)) : [contents];
    const ops = streams.map(streamText).join("\n");
    const texts: string[] = [];
    let current = new Map<string, string>();
    for (const m of ops.matchAll(/\/(\S+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj/g)) {
      if (m[1] !== undefined) current = fonts.get(m[1]) ?? new Map();
      else texts.push((m[2]!.toUpperCase().match(/.{4}/g) ?? []).map((g) => current.get(g) ?? "\ufffd").join(""));
    }
    return texts;
  });
}
