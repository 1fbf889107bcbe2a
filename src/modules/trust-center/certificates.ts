import { randomUUID } from 'node:crypto';
import { auditScope } from '../../platform/audit/audit.ts';
import type { RequestContext, Runtime } from '../../platform/context.ts';
import type { Tx } from '../../platform/db/client.ts';
import { InvalidInput, NotFound } from '../../platform/errors.ts';
import type { StoredBlob } from '../../platform/storage/blob-store.ts';
import {
  CERTIFICATE_KINDS,
  checkUpload,
  type FileKind,
  kindOfType,
  MAX_CERTIFICATE_BYTES,
  safeFilename,
  storedFilename,
  type Upload,
} from './files.ts';
import { DEFAULT_LOCALE, type SectionSpec } from './schema.ts';
import { readVersions } from './store.ts';
import type { StoredDocument } from './tables.ts';

/** The blob category of certificate files: a draft may reference only blobs of this category. */
export const CERTIFICATE_CATEGORY = 'trust-center-certificate';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isBlobId(value: string): boolean {
  return UUID.test(value);
}

/** Checked uploads waiting for their transaction, keyed by the placeholder id standing in the draft. */
export type PendingFiles = Map<string, { upload: Upload; kind: FileKind; item: number }>;

export function fileFieldOf(spec: SectionSpec): string | undefined {
  return spec.items?.fields.find((f) => f.kind === 'file')?.name;
}

/**
 * Checks every upload of a form (item index → file) before anything is stored, and puts a placeholder id in
 * the item so the document validates as it will be saved. Refused: a section without files, a bad file.
 */
export function stagedUploads(
  spec: SectionSpec,
  items: Record<string, string>[],
  uploads: Map<number, Upload>,
): { items: Record<string, string>[]; pending: PendingFiles } {
  const pending: PendingFiles = new Map();
  if (uploads.size === 0) return { items, pending };
  const field = fileFieldOf(spec);
  if (!field) throw new InvalidInput('this section takes no files');
  const staged = items.map((i) => ({ ...i }));
  for (const [index, upload] of uploads) {
    const kind = checkUpload(upload, CERTIFICATE_KINDS, MAX_CERTIFICATE_BYTES, `items.${index}.${field}`);
    const placeholder = randomUUID();
    staged[index] = { ...(staged[index] ?? {}), [field]: placeholder };
    pending.set(placeholder, { upload, kind, item: index });
  }
  return { items: Array.from(staged, (i) => i ?? {}), pending };
}

/** Every file id a document references is a certificate blob of this tenant (an API client could name any id). */
export async function requireKnownFiles(
  tx: Tx,
  ctx: Runtime,
  tenantId: string,
  spec: SectionSpec,
  doc: StoredDocument,
  pending: PendingFiles,
) {
  const field = fileFieldOf(spec);
  if (!field) return;
  for (const [i, item] of doc.items.entries()) {
    const id = item[field] ?? '';
    if (id === '' || pending.has(id)) continue;
    const blob = await ctx.blobs.describe(tx, tenantId, id);
    if (!blob || blob.category !== CERTIFICATE_CATEGORY) {
      throw new InvalidInput('a field needs correcting', {
        [`items.${i}.${field}`]: 'no such certificate file; upload it again',
      });
    }
  }
}

/** Stores the pending files (encrypted) in the draft's transaction and puts their real ids in the document. */
export async function storePendingFiles(
  tx: Tx,
  ctx: RequestContext,
  spec: SectionSpec,
  doc: StoredDocument,
  pending: PendingFiles,
): Promise<StoredDocument> {
  const field = fileFieldOf(spec);
  if (!field || pending.size === 0) return doc;
  const items = [];
  for (const item of doc.items) {
    const staged = pending.get(item[field] ?? '');
    if (!staged) {
      items.push(item);
      continue;
    }
    const blob = await storeCertificate(tx, ctx, staged.upload, staged.kind, item.standard ?? '');
    items.push({ ...item, [field]: blob.id });
  }
  return { ...doc, items };
}

async function storeCertificate(
  tx: Tx,
  ctx: RequestContext,
  upload: Upload,
  kind: FileKind,
  standard: string,
): Promise<StoredBlob> {
  const blob = await ctx.blobs.put(tx, ctx.tenant.id, upload.bytes, {
    category: CERTIFICATE_CATEGORY,
    contentType: kind.contentType,
    filename: storedFilename(upload.filename),
  });
  await ctx.audit.record(tx, auditScope(ctx), {
    action: 'trust_center.certificate_uploaded',
    target: { type: 'blob', id: blob.id },
    details: { standard, contentType: kind.contentType, size: blob.size, sha256: blob.sha256 },
  });
  return blob;
}

export interface CertificateFile {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

/** Names and sizes of the files a document references, for the editing form. */
export async function describeFiles(
  tx: Tx,
  runtime: Runtime,
  tenantId: string,
  ids: string[],
): Promise<Map<string, CertificateFile>> {
  const files = new Map<string, CertificateFile>();
  for (const id of ids.filter(isBlobId)) {
    const blob = await runtime.blobs.describe(tx, tenantId, id);
    if (blob?.category === CERTIFICATE_CATEGORY) {
      files.set(id, { id, filename: blob.filename ?? 'file', contentType: blob.contentType, size: blob.size });
    }
  }
  return files;
}

export interface Download {
  content: Buffer;
  contentType: string;
  filename: string;
  sha256: string;
}

async function download(tx: Tx, runtime: Runtime, tenantId: string, id: string, fallback: string): Promise<Download> {
  const { blob, content } = await runtime.blobs.get(tx, tenantId, id);
  const kind = kindOfType(blob.contentType);
  if (blob.category !== CERTIFICATE_CATEGORY || !kind) throw new NotFound('certificate file', id);
  return { content, contentType: kind.contentType, filename: safeFilename(blob.filename, kind, fallback), sha256: blob.sha256 };
}

/**
 * A certificate file for the public site: only one the live certifications version references, so a file
 * uploaded to a draft (or dropped by a later version) is never reachable publicly.
 */
export async function publishedCertificate(
  runtime: Runtime,
  tenantId: string,
  id: string,
  locale = DEFAULT_LOCALE,
): Promise<Download> {
  if (!isBlobId(id)) throw new NotFound('certificate file', id);
  return runtime.db.withTenant(tenantId, async (tx) => {
    const [live] = await readVersions(tx, tenantId, locale, 'certifications');
    const item = live?.document.items.find((i) => i.certificate === id);
    if (!item) throw new NotFound('certificate file', id);
    return download(tx, runtime, tenantId, id, `${item.standard ?? 'certificate'}-certificate`.replace(/[^A-Za-z0-9]+/g, '-'));
  });
}

/** Any certificate file of the tenant, for editors checking a draft's upload. */
export async function draftCertificate(ctx: RequestContext, id: string): Promise<Download> {
  if (!isBlobId(id)) throw new NotFound('certificate file', id);
  return ctx.db.withTenant(ctx.tenant.id, (tx) => download(tx, ctx, ctx.tenant.id, id, 'certificate'));
}
