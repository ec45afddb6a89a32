import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fontkit from "@pdf-lib/fontkit";
import { PDFDocument, StandardFonts } from "pdf-lib";
import type { PDFFont, PDFPage, RGB } from "pdf-lib";
import { FONT_FILES } from "./font-files.js";

/**
 * The invoice's fonts: DejaVu Sans Condensed (about Helvetica's width; Latin with every European accent, Greek, Cyrillic, and much
 * more) and, only when a document holds characters DejaVu lacks, Noto Sans SC (Chinese, Japanese
 * kana and kanji). Both are embedded as subsets of the glyphs used (pdf-lib with fontkit), under a
 * fixed name, so the same document still renders the same bytes. What no font has prints as "?".
 *
 * The files come from npm packages (`dejavu-fonts-ttf`, `@expo-google-fonts/noto-sans-sc`); the
 * Lambda functions that render invoices get them copied into their bundle under `fonts/`
 * (stacks/function-defaults.ts `INVOICE_FONTS`); `FONT_DIR` may point elsewhere.
 */
type FontFile = keyof typeof FONT_FILES;

const bytes = new Map<FontFile, Uint8Array>();
/** A font file's bytes, read once per process: from FONT_DIR (Lambda), next to the bundle, or node_modules. */
function fontBytes(which: FontFile): Uint8Array {
  const cached = bytes.get(which);
  if (cached) return cached;
  const spec = FONT_FILES[which];
  const name = basename(spec);
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    ...(process.env.FONT_DIR ? [join(process.env.FONT_DIR, name)] : []),
    ...(process.env.LAMBDA_TASK_ROOT ? [join(process.env.LAMBDA_TASK_ROOT, "fonts", name)] : []),
    join(here, "fonts", name),
  ];
  let path = candidates.find((p) => existsSync(p));
  if (!path) path = createRequire(import.meta.url).resolve(spec);
  const b = new Uint8Array(readFileSync(path));
  bytes.set(which, b);
  return b;
}

const charsets = new Map<FontFile, ReadonlySet<number>>();
/** The code points a font file has glyphs for (read once per process). */
function charset(which: FontFile): ReadonlySet<number> {
  let set = charsets.get(which);
  if (!set) {
    set = new Set(fontkit.create(Buffer.from(fontBytes(which))).characterSet);
    charsets.set(which, set);
  }
  return set;
}

let winAnsi: ReadonlySet<number> | undefined;
/** The characters the standard fonts draw (WinAnsi), read once from a scratch document. */
async function winAnsiCharset(): Promise<ReadonlySet<number>> {
  if (!winAnsi) {
    const scratch = await PDFDocument.create();
    winAnsi = new Set((await scratch.embedFont(StandardFonts.Helvetica)).getCharacterSet());
  }
  return winAnsi;
}

/** One face of a FontSet: its embedded font and the code points it draws. */
interface Face {
  readonly font: PDFFont;
  readonly has: ReadonlySet<number>;
}

/**
 * A text style drawn with several fonts: each run of characters with the first face that has
 * them. Widths are the sum of the runs' widths, so wrapping and right alignment stay exact.
 */
export class FontSet {
  constructor(private readonly faces: readonly Face[]) {}

  /** Whether some face draws this code point. */
  draws(cp: number): boolean {
    return this.faces.some((f) => f.has.has(cp));
  }

  private runs(s: string): { face: Face; text: string }[] {
    const out: { face: Face; text: string }[] = [];
    for (const ch of s) {
      const cp = ch.codePointAt(0) ?? 0;
      const face = this.faces.find((f) => f.has.has(cp)) ?? this.faces[0]!;
      const text = face.has.has(cp) ? ch : "?";
      const last = out.at(-1);
      if (last && last.face === face) last.text += text;
      else out.push({ face, text });
    }
    return out;
  }

  widthOfTextAtSize(s: string, size: number): number {
    return this.runs(s).reduce((w, r) => w + r.face.font.widthOfTextAtSize(r.text, size), 0);
  }

  draw(page: PDFPage, s: string, at: { x: number; y: number; size: number; color: RGB }): void {
    let x = at.x;
    for (const r of this.runs(s)) {
      page.drawText(r.text, { x, y: at.y, size: at.size, color: at.color, font: r.face.font });
      x += r.face.font.widthOfTextAtSize(r.text, at.size);
    }
  }
}

/**
 * Embeds the invoice's regular and bold styles in `pdf`. A document whose every character Helvetica
 * draws (WinAnsi: English and Western European names) keeps the standard fonts: nothing embedded, a
 * small file rendered in milliseconds. Any other takes DejaVu Sans Condensed, plus Noto Sans SC when
 * it holds a character DejaVu lacks (a 10 MB font is parsed only for documents that need it).
 */
export async function embedFonts(
  pdf: PDFDocument,
  texts: readonly string[],
): Promise<{ regular: FontSet; bold: FontSet }> {
  const chars = new Set(texts.flatMap((t) => [...t.normalize("NFC")].map((c) => c.codePointAt(0) ?? 0)));
  const drawn = (has: ReadonlySet<number>) =>
    [...chars].every((cp) => has.has(cp) || cp < 0x20 || /\s/u.test(String.fromCodePoint(cp)));
  const winAnsi = await winAnsiCharset();
  if (drawn(winAnsi)) {
    return {
      regular: new FontSet([{ font: await pdf.embedFont(StandardFonts.Helvetica), has: winAnsi }]),
      bold: new FontSet([{ font: await pdf.embedFont(StandardFonts.HelveticaBold), has: winAnsi }]),
    };
  }
  pdf.registerFontkit(fontkit);
  const face = async (which: FontFile, name: string): Promise<Face> => ({
    font: await pdf.embedFont(fontBytes(which), { subset: true, customName: name }),
    has: charset(which),
  });
  const regular = [await face("sans", "DejaVuSansCondensed")];
  const bold = [await face("sansBold", "DejaVuSansCondensed-Bold")];
  if (!drawn(charset("sans"))) {
    regular.push(await face("cjk", "NotoSansSC-Regular"));
    bold.push(await face("cjkBold", "NotoSansSC-Bold"));
  }
  return { regular: new FontSet(regular), bold: new FontSet(bold) };
}
