import {
  type Color,
  concatTransformationMatrix,
  degrees,
  grayscale,
  PDFArray,
  PDFDict,
  PDFDocument,
  type PDFFont,
  PDFHexString,
  PDFName,
  type PDFPage,
  type PDFRef,
  PDFString,
  popGraphicsState,
  pushGraphicsState,
  rgb,
  StandardFonts,
  setGraphicsState,
} from '@cantoo/pdf-lib';
import { LOAD_OPTIONS } from './pdf.ts';

/** Who a copy is made for: everything printed on its pages and written into its metadata. */
export interface StampRecipient {
  name: string;
  email: string;
  company: string;
  grantId: string;
  at: Date;
}

/** The custom document-information key carrying the grant id (read with `pdfinfo -custom`). */
export const GRANT_INFO_KEY = 'CandorGrantId';

const MARK_COLOR: Color = rgb(0.75, 0.1, 0.1);
const MARK_OPACITY = 0.18;
const FOOTER_COLOR: Color = grayscale(0.25);
const FOOTER_SIZE = 7;
const FOOTER_MARGIN = 10;

/**
 * Stamps every page of a PDF for one recipient: a diagonal, semi-transparent mark (name, company, email)
 * across the page and a small footer line (name, email, company, grant id, UTC time); the grant id also goes
 * into the document information (Subject, Keywords and `CandorGrantId`). Expects an unencrypted PDF (uploads
 * are decrypted or refused), parses it once, embeds Helvetica once and leaves every original byte of page
 * content untouched (the page's own drawing is wrapped in q/Q so its state cannot move the stamp).
 */
export async function stampPdf(pdf: Uint8Array, recipient: StampRecipient): Promise<Uint8Array> {
  const doc = await PDFDocument.load(pdf, LOAD_OPTIONS);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const text = stampText(recipient, font);
  // Shared by every page: the q/Q wrappers and the mark's transparency (one object each, not one per page).
  const shared: Shared = {
    open: doc.context.register(doc.context.stream('q')),
    close: doc.context.register(doc.context.stream('Q')),
    translucent: doc.context.register(doc.context.obj({ Type: 'ExtGState', ca: MARK_OPACITY, CA: MARK_OPACITY })),
  };
  for (const page of doc.getPages()) stampPage(page, text, { font, bold }, shared);
  writeGrantMetadata(doc, recipient);
  // Plain cross-reference tables: object streams would compress every object again (most of the time spent)
  // for a file that is sent once and stays about the size of the upload.
  return doc.save({ useObjectStreams: false, objectsPerTick: Number.POSITIVE_INFINITY });
}

interface Shared {
  open: PDFRef;
  close: PDFRef;
  translucent: PDFRef;
}

interface StampText {
  markLines: string[];
  footer: string;
}

/** The standard fonts encode WinAnsi only: anything else prints as `?` (the metadata keeps the exact text). */
function printable(value: string, font: PDFFont): string {
  const known = new Set(font.getCharacterSet());
  return [...value.normalize('NFC').replace(/\s+/g, ' ').trim()]
    .map((ch) => (known.has(ch.codePointAt(0) ?? 0) ? ch : '?'))
    .join('');
}

function stampText(r: StampRecipient, font: PDFFont): StampText {
  const name = printable(r.name, font);
  const email = printable(r.email, font);
  const company = printable(r.company, font);
  const grant = printable(r.grantId, font);
  const at = r.at.toISOString();
  return {
    markLines: [name, company, email].filter((l) => l !== ''),
    footer: `Provided to ${name} <${email}>, ${company} - grant ${grant} - ${at} - do not redistribute`,
  };
}

/** The page as a reader sees it: width and height after /Rotate, and the matrix from that view to user space. */
function visualFrame(page: PDFPage): { width: number; height: number; matrix: [number, number, number, number, number, number] } {
  const box = page.getCropBox();
  const rotation = (((page.getRotation().angle % 360) + 360) % 360) as 0 | 90 | 180 | 270;
  const { x, y, width: w, height: h } = box;
  switch (rotation) {
    case 90:
      return { width: h, height: w, matrix: [0, 1, -1, 0, x + w, y] };
    case 180:
      return { width: w, height: h, matrix: [-1, 0, 0, -1, x + w, y + h] };
    case 270:
      return { width: h, height: w, matrix: [0, -1, 1, 0, x, y + h] };
    default:
      return { width: w, height: h, matrix: [1, 0, 0, 1, x, y] };
  }
}

function stampPage(page: PDFPage, text: StampText, fonts: { font: PDFFont; bold: PDFFont }, shared: Shared): void {
  isolateOriginalContent(page, shared);
  const frame = visualFrame(page);
  page.pushOperators(pushGraphicsState(), concatTransformationMatrix(...frame.matrix));
  drawFooter(page, text.footer, fonts.font, frame);
  page.pushOperators(pushGraphicsState(), setGraphicsState(page.node.newExtGState('CandorMark', shared.translucent)));
  drawDiagonalMark(page, text.markLines, fonts.bold, frame);
  page.pushOperators(popGraphicsState(), popGraphicsState());
}

/** Wraps the page's existing content streams in q … Q so a transform it leaves behind cannot bend the stamp. */
function isolateOriginalContent(page: PDFPage, wrap: Shared): void {
  const node = page.node;
  const contents = node.Contents();
  const original = node.get(PDFName.of('Contents'));
  const streams = contents instanceof PDFArray ? contents.asArray() : original ? [original] : [];
  node.set(PDFName.of('Contents'), page.doc.context.obj([wrap.open, ...streams, wrap.close]));
}

function drawDiagonalMark(page: PDFPage, lines: string[], font: PDFFont, frame: { width: number; height: number }): void {
  const diagonal = Math.hypot(frame.width, frame.height);
  const angle = Math.atan2(frame.height, frame.width);
  const widest = Math.max(...lines.map((l) => font.widthOfTextAtSize(l, 1)), 1);
  const size = Math.max(8, Math.min(40, (diagonal * 0.6) / widest));
  const leading = size * 1.25;
  lines.forEach((line, i) => {
    const width = font.widthOfTextAtSize(line, size);
    // Each line centred on the page's diagonal, the block centred on the page's middle.
    const offset = ((lines.length - 1) / 2 - i) * leading - size * 0.35;
    const cx = frame.width / 2 - Math.sin(angle) * offset;
    const cy = frame.height / 2 + Math.cos(angle) * offset;
    page.drawText(line, {
      x: cx - (Math.cos(angle) * width) / 2,
      y: cy - (Math.sin(angle) * width) / 2,
      size,
      font,
      color: MARK_COLOR,
      rotate: degrees((angle * 180) / Math.PI),
    });
  });
}

function drawFooter(page: PDFPage, footer: string, font: PDFFont, frame: { width: number; height: number }): void {
  const available = frame.width - 2 * FOOTER_MARGIN;
  const size = Math.max(3, Math.min(FOOTER_SIZE, available / Math.max(font.widthOfTextAtSize(footer, 1), 1)));
  page.drawText(footer, { x: FOOTER_MARGIN, y: FOOTER_MARGIN * 0.6, size, font, color: FOOTER_COLOR });
}

function writeGrantMetadata(doc: PDFDocument, r: StampRecipient): void {
  const keywords = (doc.getKeywords() ?? '').split(/[,;]\s*|\s+/).filter((k) => k !== '' && !k.startsWith('grant:'));
  doc.setSubject(`Provided to ${r.email} under grant ${r.grantId} at ${r.at.toISOString()}`);
  doc.setKeywords([`grant:${r.grantId}`, ...keywords]);
  // setSubject made sure an information dictionary exists.
  doc.context.lookup(doc.context.trailerInfo.Info, PDFDict).set(PDFName.of(GRANT_INFO_KEY), PDFHexString.fromText(r.grantId));
}

const UUID_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/**
 * The grant id a stamped copy carries, read back from where `writeGrantMetadata` put it: `CandorGrantId`
 * first, then Keywords (`grant:<id>`), then Subject (a viewer that rewrote the custom key may keep these).
 * Undefined when none is there; throws when the bytes are not a PDF pdf-lib can open.
 */
export async function readGrantId(pdf: Uint8Array): Promise<string | undefined> {
  const doc = await PDFDocument.load(pdf, { ...LOAD_OPTIONS, ignoreEncryption: true, throwOnInvalidObject: false });
  const info = doc.context.lookupMaybe(doc.context.trailerInfo.Info, PDFDict);
  const custom = info?.lookupMaybe(PDFName.of(GRANT_INFO_KEY), PDFString, PDFHexString)?.decodeText();
  const keywords = /grant:([0-9a-f-]{36})/i.exec(doc.getKeywords() ?? '')?.[1];
  const subject = /under grant ([0-9a-f-]{36})/i.exec(doc.getSubject() ?? '')?.[1];
  for (const candidate of [custom, keywords, subject]) {
    const id = candidate ? UUID_TEXT.exec(candidate.trim())?.[0] : undefined;
    if (id && id.length === candidate?.trim().length) return id.toLowerCase();
  }
  return undefined;
}
