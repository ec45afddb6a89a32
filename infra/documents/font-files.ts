/**
 * The font files invoices are drawn with (infra/documents/fonts.ts), as package paths: DejaVu Sans
 * Condensed for Latin, Greek and Cyrillic, Noto Sans SC for Chinese and Japanese. A leaf module, so
 * the stacks can copy the files into the functions that render PDFs without loading fontkit.
 */
export const FONT_FILES = {
  sans: "dejavu-fonts-ttf/ttf/DejaVuSansCondensed.ttf",
  sansBold: "dejavu-fonts-ttf/ttf/DejaVuSansCondensed-Bold.ttf",
  cjk: "@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf",
  cjkBold: "@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf",
} as const;
