import type { ComposeOptions } from './compose.ts';
import type { PreparedPdf } from './pdf.ts';
import type { StampRecipient } from './watermark.ts';

/*
 * The PDF work, loaded on first use. The PDF library and its colour dependencies are some 350 modules,
 * about a third of what a start would otherwise load through the TypeScript loader, and most starts never
 * touch a PDF. Code outside the documents' own PDF files calls these, never those files directly.
 */

/** Why a PDF was refused at upload, in words for the person uploading it. */
export class UnusablePdf extends Error {
  override name = 'UnusablePdf';
}

export const NEEDS_PASSWORD = 'this PDF needs a password to open; upload an unprotected copy';

/** Reads an uploaded PDF the way stamping will (see pdf.ts). */
export async function preparePdf(bytes: Uint8Array): Promise<PreparedPdf> {
  return (await import('./pdf.ts')).preparePdf(bytes);
}

/** A copy of `pdf` stamped for its recipient (see watermark.ts). */
export async function stampPdf(pdf: Uint8Array, recipient: StampRecipient): Promise<Uint8Array> {
  return (await import('./watermark.ts')).stampPdf(pdf, recipient);
}

/** The grant id a stamped copy carries, if any. */
export async function readGrantId(pdf: Uint8Array): Promise<string | undefined> {
  return (await import('./watermark.ts')).readGrantId(pdf);
}

/** A simple text PDF (NDAs, demo documents). */
export async function composePdf(options: ComposeOptions): Promise<Uint8Array> {
  return (await import('./compose.ts')).composePdf(options);
}
