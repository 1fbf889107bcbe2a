import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { degrees, PDFDict, PDFDocument, PDFName } from '@cantoo/pdf-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { composePages } from './compose.ts';
import { NEEDS_PASSWORD, preparePdf, UnusablePdf } from './pdf-tools.ts';
import { GRANT_INFO_KEY, readGrantId, type StampRecipient, stampPdf } from './watermark.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'candor-watermark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recipient: StampRecipient = {
  name: 'Priya Raman',
  email: 'priya.raman@northwind.test',
  company: 'Northwind Analytics',
  grantId: 'grt_7f3a9c2e41b8',
  at: new Date('2026-11-21T14:05:09.000Z'),
};

let fileNumber = 0;
function onDisk(bytes: Uint8Array): string {
  const file = path.join(dir, `doc-${++fileNumber}.pdf`);
  writeFileSync(file, bytes);
  return file;
}

/** The text of each page as Debian's poppler reads it (an independent reader, not pdf-lib). */
async function pageTexts(bytes: Uint8Array): Promise<string[]> {
  const { stdout } = await run('pdftotext', ['-layout', onDisk(bytes), '-'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\f').slice(0, -1);
}

async function info(bytes: Uint8Array): Promise<Record<string, string>> {
  const file = onDisk(bytes);
  // `-custom` lists every information key (ours included); the plain form adds the encryption line.
  const lines = [(await run('pdfinfo', ['-custom', file])).stdout, (await run('pdfinfo', [file])).stdout].join('\n').split('\n');
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

function expectStampedEverywhere(pages: string[], count: number): void {
  expect(pages).toHaveLength(count);
  for (const [i, text] of pages.entries()) {
    expect(text, `page ${i + 1}`).toContain(recipient.email);
    expect(text, `page ${i + 1}`).toContain(recipient.grantId);
    expect(text, `page ${i + 1}`).toContain('2026-11-21T14:05:09.000Z');
  }
}

describe('stamping a PDF for one recipient', () => {
  it('puts the email, grant id and time on every page of a 100-page PDF and the grant id in its metadata', async () => {
    const original = await composePages(100, 'Annual assurance report');
    const stamped = await stampPdf(original, recipient);
    const pages = await pageTexts(stamped);
    expectStampedEverywhere(pages, 100);
    // The original text is still there, untouched.
    expect(pages[41]).toContain('Annual assurance report: section 42');
    const meta = await info(stamped);
    expect(meta.Subject).toContain(recipient.grantId);
    expect(meta.Keywords).toContain(`grant:${recipient.grantId}`);
    expect(meta[GRANT_INFO_KEY]).toBe(recipient.grantId);
    expect(meta.Title).toBe('Annual assurance report');
    expect(meta.Encrypted).toBe('no');
  });

  it('embeds the stamp font once for the whole document, not once per page', async () => {
    const stamped = await stampPdf(await composePages(20), recipient);
    const { stdout } = await run('pdffonts', [onDisk(stamped)]);
    const helvetica = stdout.split('\n').filter((l) => /^Helvetica\s/.test(l));
    expect(helvetica).toHaveLength(1);
  });

  it('stamps rotated pages and pages of different sizes in the reader’s orientation', async () => {
    const doc = await PDFDocument.load(await composePages(4));
    doc.getPage(1).setRotation(degrees(90));
    doc.getPage(2).setRotation(degrees(180));
    doc.getPage(3).setRotation(degrees(270));
    const letter = doc.addPage([612, 792]);
    letter.drawText('A US Letter page', { x: 60, y: 700 });
    const small = doc.addPage([300, 200]);
    small.setRotation(degrees(90));
    small.drawText('A small receipt', { x: 20, y: 100, size: 10 });
    const stamped = await stampPdf(await doc.save(), recipient);
    const pages = await pageTexts(stamped);
    expectStampedEverywhere(pages, 6);
    // The footer reads as one horizontal line on the rotated pages too (pdftotext keeps its words together).
    for (const text of pages) expect(text).toMatch(/Provided to Priya Raman <priya\.raman@northwind\.test>, Northwind Analytics/);
  });

  it('stamps names outside the standard font’s alphabet without failing', async () => {
    const stamped = await stampPdf(await composePages(2), { ...recipient, name: 'Zoë 王 Ødegaard' });
    const pages = await pageTexts(stamped);
    expectStampedEverywhere(pages, 2);
    expect(pages[0]).toContain('Zoë ? Ødegaard');
  });
});

describe('preparing an uploaded PDF', () => {
  async function encrypted(userPassword: string): Promise<Uint8Array> {
    const doc = await PDFDocument.load(await composePages(3, 'Restricted report'));
    doc.encrypt({ userPassword, ownerPassword: 'owner-secret', permissions: { printing: 'highResolution' } });
    return doc.save();
  }

  it('decrypts a PDF protected by an owner password only, and the result stamps on every page', async () => {
    const upload = await encrypted('');
    expect((await info(upload)).Encrypted).toMatch(/^yes/);
    const prepared = await preparePdf(upload);
    expect(prepared).toMatchObject({ pages: 3, decrypted: true });
    expect((await info(prepared.bytes)).Encrypted).toBe('no');
    const pages = await pageTexts(await stampPdf(prepared.bytes, recipient));
    expectStampedEverywhere(pages, 3);
    expect(pages[0]).toContain('Restricted report');
  });

  it('refuses a PDF that needs a password to open, with a clear reason', async () => {
    await expect(preparePdf(await encrypted('user-secret'))).rejects.toThrow(new UnusablePdf(NEEDS_PASSWORD));
  });

  it('refuses bytes that only start like a PDF', async () => {
    await expect(preparePdf(new TextEncoder().encode('%PDF-1.7\nnot really a pdf'))).rejects.toThrow(UnusablePdf);
  });

  it('keeps an ordinary PDF byte for byte', async () => {
    const original = await composePages(2);
    const prepared = await preparePdf(original);
    expect(prepared).toMatchObject({ pages: 2, decrypted: false });
    expect(prepared.bytes).toBe(original);
  });
});

describe('reading the grant id back from a copy', () => {
  const grantId = '3f2b8c1e-9a4d-4e7f-b2c6-0d1e2f3a4b5c';

  it('reads the id stamping wrote, from the custom key or, once that is stripped, from the keywords', async () => {
    const stamped = await stampPdf(await composePages(2), { ...recipient, grantId });
    expect(await readGrantId(stamped)).toBe(grantId);
    // A tool that rewrites the information dictionary may drop our key but keep the standard ones.
    const doc = await PDFDocument.load(stamped);
    doc.context.lookup(doc.context.trailerInfo.Info, PDFDict).delete(PDFName.of(GRANT_INFO_KEY));
    expect(await readGrantId(await doc.save())).toBe(grantId);
  });

  it('finds nothing in an unstamped PDF and refuses bytes that are not a PDF', async () => {
    expect(await readGrantId(await composePages(1))).toBeUndefined();
    await expect(readGrantId(new TextEncoder().encode('hello'))).rejects.toThrow();
  });
});
