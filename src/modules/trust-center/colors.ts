/** WCAG 2.1 contrast arithmetic for brand colours (`#rrggbb`). */

/** The public site's page background and card surface (candor.css `--color-bg`, `--color-surface`). */
export const PAGE_BACKGROUND = '#f5f7fa';
export const SURFACE = '#ffffff';
/**
 * The dark scheme's page, card, muted and hero-tint backgrounds (candor.css under prefers-color-scheme: dark):
 * a brand colour chosen for the light pages is lightened until it reads on all of them.
 */
export const DARK_BACKGROUNDS = ['#0d1218', '#151c25', '#1b2430', '#1e2e4f'] as const;
/** WCAG 2.1 AA for normal text. */
export const AA_CONTRAST = 4.5;
/** WCAG 2.1 AA for focus rings and other non-text marks (1.4.11). */
export const NON_TEXT_CONTRAST = 3;

const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** `#1F4fd1`, `1f4fd1`, `#fff` → `#1f4fd1` / `#ffffff`; undefined when it is not a hex colour. */
export function normalizeHex(value: string): string | undefined {
  const match = HEX.exec(value.trim());
  if (!match?.[1]) return undefined;
  const digits = match[1].toLowerCase();
  return `#${digits.length === 3 ? [...digits].map((d) => d + d).join('') : digits}`;
}

function channel(hex: string, index: number): number {
  const value = Number.parseInt(hex.slice(1 + index * 2, 3 + index * 2), 16) / 255;
  return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
}

export function relativeLuminance(hex: string): number {
  return 0.2126 * channel(hex, 0) + 0.7152 * channel(hex, 1) + 0.0722 * channel(hex, 2);
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The colour mixed towards black by `amount` (0..1): hover and pressed shades keep at least the contrast. */
export function darken(hex: string, amount: number): string {
  const parts = [0, 1, 2].map((i) => Math.round(Number.parseInt(hex.slice(1 + i * 2, 3 + i * 2), 16) * (1 - amount)));
  return `#${parts.map((p) => p.toString(16).padStart(2, '0')).join('')}`;
}

/** The colour mixed towards white by `amount` (0..1). */
export function lighten(hex: string, amount: number): string {
  const parts = [0, 1, 2].map((i) => {
    const value = Number.parseInt(hex.slice(1 + i * 2, 3 + i * 2), 16);
    return Math.round(value + (255 - value) * amount);
  });
  return `#${parts.map((p) => p.toString(16).padStart(2, '0')).join('')}`;
}

/** The least lightened shade of `hex` that reaches `ratio` against every one of `backgrounds`. */
export function lightenToContrast(hex: string, backgrounds: readonly string[], ratio: number): string {
  for (let step = 0; step <= 50; step++) {
    const shade = lighten(hex, step / 50);
    if (Math.min(...backgrounds.map((b) => contrastRatio(shade, b))) >= ratio) return shade;
  }
  return '#ffffff';
}
