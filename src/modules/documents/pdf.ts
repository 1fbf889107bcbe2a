import { ParseSpeeds, PDFDict, PDFDocument, PDFInvalidObject, PDFName, PDFRawStream } from '@cantoo/pdf-lib';
import { NEEDS_PASSWORD, UnusablePdf } from './pdf-tools.ts';

/** Parsing options shared by upload and stamping: no yielding per object (a 100-page file parses in milliseconds). */
export const LOAD_OPTIONS = { parseSpeed: ParseSpeeds.Fastest, updateMetadata: false } as const;

function isPasswordError(error: unknown): boolean {
  return error instanceof Error && /password|decrypt/i.test(error.message);
}

/**
 * What a decrypting load leaves behind that no longer belongs to the file: the old encryption dictionary,
 * the original cross-reference and object streams (kept as raw objects, still naming /Encrypt), and objects
 * the parser could not read. Saved as they are, a reader would take the file for encrypted again.
 */
function dropEncryptionLeftovers(doc: PDFDocument): void {
  for (const [ref, object] of doc.context.enumerateIndirectObjects()) {
    const dict = object instanceof PDFDict ? object : object instanceof PDFRawStream ? object.dict : undefined;
    const type = dict?.get(PDFName.of('Type'));
    const isCryptDict = dict?.has(PDFName.of('Filter')) && dict.has(PDFName.of('O')) && dict.has(PDFName.of('U'));
    if (object instanceof PDFInvalidObject || type === PDFName.of('XRef') || type === PDFName.of('ObjStm') || isCryptDict) {
      doc.context.delete(ref);
    }
  }
}

export interface PreparedPdf {
  bytes: Uint8Array;
  pages: number;
  /** True when the upload was encrypted with an owner password only and is stored decrypted. */
  decrypted: boolean;
}

/**
 * Reads an uploaded PDF the way stamping will: refused when it does not parse or has no pages. An encrypted
 * PDF that opens without a password (owner password only: printing or copying restrictions) is stored
 * decrypted, so each download is stamped without decrypting again; one that needs a password is refused.
 */
export async function preparePdf(bytes: Uint8Array): Promise<PreparedPdf> {
  let doc: PDFDocument;
  let pages: number;
  try {
    doc = await PDFDocument.load(bytes, { ...LOAD_OPTIONS, ignoreEncryption: true });
    // Counting pages walks the page tree: a file with no usable catalog fails here.
    pages = doc.isEncrypted ? 1 : doc.getPageCount();
  } catch {
    throw new UnusablePdf('this PDF cannot be read; it may be damaged');
  }
  if (pages === 0) throw new UnusablePdf('this PDF has no pages');
  if (!doc.isEncrypted) return { bytes, pages, decrypted: false };
  try {
    doc = await PDFDocument.load(bytes, { ...LOAD_OPTIONS, password: '' });
  } catch (error) {
    if (isPasswordError(error)) throw new UnusablePdf(NEEDS_PASSWORD);
    throw new UnusablePdf(`this encrypted PDF cannot be decrypted here; ${NEEDS_PASSWORD}`);
  }
  dropEncryptionLeftovers(doc);
  const decrypted = await doc.save({ useObjectStreams: false });
  // Proof that what we store opens without a password and keeps its pages.
  const check = await PDFDocument.load(decrypted, LOAD_OPTIONS).catch(() => undefined);
  if (!check || check.isEncrypted || check.getPageCount() !== doc.getPageCount()) {
    throw new UnusablePdf(`this encrypted PDF cannot be decrypted here; ${NEEDS_PASSWORD}`);
  }
  return { bytes: decrypted, pages: check.getPageCount(), decrypted: true };
}
