import { PDFDocument, type PDFFont, rgb, StandardFonts } from '@cantoo/pdf-lib';

export interface ComposedSection {
  heading: string;
  paragraphs: string[];
}

export interface ComposeOptions {
  title: string;
  subtitle?: string;
  sections: ComposedSection[];
  /** Page size in points (A4 by default); pages flow as the text needs. */
  size?: [number, number];
  /** A cover page with the title and a list of sections, and each section starting on a page of its own. */
  cover?: boolean;
}

const MARGIN = 56;

function wrapLine(text: string, font: PDFFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(next, size) > width && line) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * A real, text-bearing PDF made in code: the demo tenant's documents, the benchmark's inputs and test
 * fixtures. Text flows across as many pages as it needs, each page numbered.
 */
export async function composePdf(options: ComposeOptions): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(options.title);
  doc.setCreator('Candor');
  const body = await doc.embedFont(StandardFonts.TimesRoman);
  const heading = await doc.embedFont(StandardFonts.HelveticaBold);
  const [width, height] = options.size ?? [595.28, 841.89];
  const textWidth = width - 2 * MARGIN;
  let page = doc.addPage([width, height]);
  let y = height - MARGIN;
  const newPage = () => {
    page = doc.addPage([width, height]);
    y = height - MARGIN;
  };
  const write = (text: string, font: PDFFont, size: number, gap: number) => {
    for (const line of wrapLine(text, font, size, textWidth)) {
      if (y - size < MARGIN) newPage();
      y -= size * 1.3;
      page.drawText(line, { x: MARGIN, y, size, font, color: rgb(0.1, 0.1, 0.12) });
    }
    y -= gap;
  };
  write(options.title, heading, 20, 6);
  if (options.subtitle) write(options.subtitle, body, 12, 18);
  if (options.cover) {
    write('Contents', heading, 13, 4);
    for (const [i, section] of options.sections.entries()) write(`${i + 1}. ${section.heading}`, body, 11, 2);
  }
  for (const section of options.sections) {
    if (options.cover || y - 60 < MARGIN) newPage();
    write(section.heading, heading, 13, 4);
    for (const paragraph of section.paragraphs) write(paragraph, body, 11, 8);
  }
  const pages = doc.getPages();
  pages.forEach((p, i) => {
    p.drawText(`${options.title} - page ${i + 1} of ${pages.length}`, { x: MARGIN, y: MARGIN / 2, size: 8, font: body });
  });
  return doc.save();
}

const FILLER = [
  'Access to production systems is granted through single sign-on with a second factor and reviewed every quarter.',
  'Customer data is encrypted in transit with TLS 1.2 or later and at rest with AES-256 under keys held in a managed service.',
  'Changes to production pass code review, automated tests and an approval recorded in the change log before release.',
  'Backups run daily, are encrypted, are kept in a second region and are restored in a drill every month.',
  'Security incidents follow a written response plan with named roles, severity levels and notification deadlines.',
];

/** A document of exactly `pages` pages, each with a heading and a few paragraphs of ordinary text (benchmarks, tests). */
export async function composePages(pages: number, title = 'Generated report'): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  const body = await doc.embedFont(StandardFonts.TimesRoman);
  const heading = await doc.embedFont(StandardFonts.HelveticaBold);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage([595.28, 841.89]);
    let y = 841.89 - MARGIN;
    page.drawText(`${title}: section ${n}`, { x: MARGIN, y, size: 14, font: heading });
    for (let i = 0; i < 12; i++) {
      for (const line of wrapLine(FILLER[(n + i) % FILLER.length] ?? '', body, 11, 595.28 - 2 * MARGIN)) {
        y -= 15;
        page.drawText(line, { x: MARGIN, y, size: 11, font: body });
      }
      y -= 6;
    }
    page.drawText(`page ${n} of ${pages}`, { x: MARGIN, y: MARGIN / 2, size: 8, font: body });
  }
  return doc.save();
}
