import type { z } from 'zod';
import { auditScope } from '../../platform/audit/audit.ts';
import type { JsonValue } from '../../platform/audit/canonical.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import { InvalidInput, NotFound, PayloadTooLarge } from '../../platform/errors.ts';
import { fieldErrors } from '../../platform/http/errors.tsx';
import { requirePermission } from '../access/service.ts';
import { announceEveryPageChanged, forgetEveryPage } from '../trust-center/cache.ts';
import { CONTENT_TYPES, cleanFilename, type FileKind, FileRefused, identifyFile, MAX_UPLOAD_BYTES } from './files.ts';
import { preparePdf, UnusablePdf } from './pdf-tools.ts';
import { DocumentChange, DocumentFields, type UncheckedDocumentFields } from './schema.ts';
import {
  type DocumentRow,
  insertDocument,
  insertVersion,
  readDocument,
  readDocuments,
  readVersion,
  readVersions,
  updateDocument,
  type VersionRow,
} from './store.ts';

/** The blob category of every document version (retention and storage listings group by it). */
export const DOCUMENT_BLOB_CATEGORY = 'gated-document';

export interface VersionView extends VersionRow {
  filename: string | null;
  contentType: string;
  current: boolean;
}

export interface DocumentView {
  document: DocumentRow;
  versions: VersionView[];
}

export interface Upload {
  filename: string;
  bytes: Uint8Array;
  note?: string | undefined;
}

export interface VersionFile {
  filename: string;
  contentType: string;
  content: Uint8Array;
  version: VersionRow;
}

function validated<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const errors = fieldErrors(parsed.error);
  const count = Object.keys(errors).length;
  throw new InvalidInput(count === 1 ? 'a field needs correcting' : `${count} fields need correcting`, errors);
}

// --- reading ----------------------------------------------------------------------------------------------

export async function listDocuments(ctx: RequestContext): Promise<DocumentRow[]> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, (tx) => readDocuments(tx, ctx.tenant.id));
}

/** A document with its whole version history, newest first (file names decrypted from the blob records). */
export async function getDocument(ctx: RequestContext, id: string): Promise<DocumentView> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const document = await readDocument(tx, ctx.tenant.id, id);
    if (!document) throw new NotFound('document', id);
    const versions: VersionView[] = [];
    for (const v of await readVersions(tx, ctx.tenant.id, id)) {
      const blob = await ctx.blobs.describe(tx, ctx.tenant.id, v.blobId);
      versions.push({
        ...v,
        filename: blob?.filename ?? null,
        contentType: CONTENT_TYPES[v.kind as FileKind],
        current: v.version === document.currentVersion,
      });
    }
    return { document, versions };
  });
}

// --- changing ---------------------------------------------------------------------------------------------

/** The Trust Center's navigation links /documents once one is offered: its cached pages are rendered again. */
function forgetPublicPages(ctx: RequestContext): void {
  forgetEveryPage(ctx.db, ctx.tenant.id);
}

/** Creates a document with no file yet. Needs `documents.manage`. */
export async function createDocument(ctx: RequestContext, input: UncheckedDocumentFields): Promise<DocumentRow> {
  requirePermission(ctx.actor, 'documents.manage');
  const fields = validated(DocumentFields, input);
  const now = ctx.clock.now();
  const by = actorLabel(ctx.actor);
  const created = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await insertDocument(tx, {
      tenantId: ctx.tenant.id,
      ...fields,
      currentVersion: null,
      createdAt: now,
      createdBy: by,
      updatedAt: now,
      updatedBy: by,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.created',
      target: { type: 'document', id: row.id },
      details: {
        accessLevel: row.accessLevel,
        grantsSeeNewVersion: row.grantsSeeNewVersion,
        nonPdfDownloadAllowed: row.nonPdfDownloadAllowed,
        viewOnly: row.viewOnly,
        grantDays: row.grantDays,
      },
    });
    await announceEveryPageChanged(tx, ctx.tenant.id);
    return row;
  });
  forgetPublicPages(ctx);
  return created;
}

type Settings = Pick<
  DocumentRow,
  'title' | 'description' | 'accessLevel' | 'grantsSeeNewVersion' | 'nonPdfDownloadAllowed' | 'viewOnly' | 'grantDays'
>;
const SETTING_KEYS = [
  'title',
  'description',
  'accessLevel',
  'grantsSeeNewVersion',
  'nonPdfDownloadAllowed',
  'viewOnly',
  'grantDays',
] as const;

/** Changes a document's text or settings; only what is given changes. Needs `documents.manage`. */
export async function changeDocument(ctx: RequestContext, id: string, change: UncheckedDocumentFields): Promise<DocumentRow> {
  requirePermission(ctx.actor, 'documents.manage');
  const given = validated(DocumentChange, change);
  const changedRow = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const before = await readDocument(tx, ctx.tenant.id, id, true);
    if (!before) throw new NotFound('document', id);
    const changed: Partial<Settings> = {};
    for (const key of SETTING_KEYS) {
      const value = given[key];
      if (value !== undefined && value !== before[key]) Object.assign(changed, { [key]: value });
    }
    if (Object.keys(changed).length === 0) return before;
    const after = await updateDocument(tx, ctx.tenant.id, id, {
      ...changed,
      updatedAt: ctx.clock.now(),
      updatedBy: actorLabel(ctx.actor),
    });
    if (!after) throw new NotFound('document', id);
    // Titles and descriptions are recorded as "changed", not copied: the trail stays small and says what moved.
    const details: Record<string, JsonValue> = { changed: Object.keys(changed) };
    for (const key of ['accessLevel', 'grantsSeeNewVersion', 'nonPdfDownloadAllowed', 'viewOnly', 'grantDays'] as const) {
      if (key in changed) details[key] = { from: before[key], to: after[key] };
    }
    await ctx.audit.record(tx, auditScope(ctx), { action: 'document.updated', target: { type: 'document', id }, details });
    await announceEveryPageChanged(tx, ctx.tenant.id);
    return after;
  });
  forgetPublicPages(ctx);
  return changedRow;
}

/** Records a refused upload in a transaction of its own (nothing else of it is kept), then throws. */
async function refuseUpload(ctx: RequestContext, id: string, reason: string, size: number, error: Error): Promise<never> {
  await ctx.db.withTenant(ctx.tenant.id, (tx) =>
    ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.upload_refused',
      target: { type: 'document', id },
      outcome: 'denied',
      details: { reason, size },
    }),
  );
  throw error;
}

interface CheckedFile {
  filename: string;
  kind: FileKind;
  bytes: Uint8Array;
  pages: number | null;
  decrypted: boolean;
}

/** The file as it will be stored, or the reason it is refused (FileRefused, UnusablePdf, PayloadTooLarge). */
async function checkFile(upload: Upload): Promise<CheckedFile> {
  if (upload.bytes.byteLength > MAX_UPLOAD_BYTES) {
    throw new PayloadTooLarge(`the file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB`);
  }
  if (upload.bytes.byteLength === 0) throw new FileRefused('the file is empty');
  const filename = cleanFilename(upload.filename);
  const kind = identifyFile(filename, upload.bytes);
  if (kind !== 'pdf') return { filename, kind, bytes: upload.bytes, pages: null, decrypted: false };
  const pdf = await preparePdf(upload.bytes);
  return { filename, kind, bytes: pdf.bytes, pages: pdf.pages, decrypted: pdf.decrypted };
}

/**
 * Stores a new version of a document's file and makes it current. The file is checked by its content first
 * (PDF or a ZIP-based format agreeing with its name, at most 25 MiB; an owner-password PDF is decrypted, one
 * that needs a password refused); a refusal stores nothing and is recorded. Needs `documents.manage`.
 */
export async function uploadVersion(ctx: RequestContext, id: string, upload: Upload): Promise<VersionRow> {
  requirePermission(ctx.actor, 'documents.manage');
  const note = (upload.note ?? '').trim();
  if (note.length > 500) throw new InvalidInput('the note is too long', { note: 'use at most 500 characters' });
  const exists = await ctx.db.withTenant(ctx.tenant.id, (tx) => readDocument(tx, ctx.tenant.id, id));
  if (!exists) throw new NotFound('document', id);
  let file: CheckedFile;
  try {
    file = await checkFile(upload);
  } catch (error) {
    const size = upload.bytes.byteLength;
    if (error instanceof PayloadTooLarge) return refuseUpload(ctx, id, 'too_large', size, error);
    if (error instanceof FileRefused)
      return refuseUpload(ctx, id, 'content_mismatch', size, new InvalidInput(error.message, { file: error.message }));
    if (error instanceof UnusablePdf)
      return refuseUpload(ctx, id, 'unusable_pdf', size, new InvalidInput(error.message, { file: error.message }));
    throw error;
  }
  const stored = await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const document = await readDocument(tx, ctx.tenant.id, id, true);
    if (!document) throw new NotFound('document', id);
    const [latest] = await readVersions(tx, ctx.tenant.id, id);
    const blob = await ctx.blobs.put(tx, ctx.tenant.id, file.bytes, {
      category: DOCUMENT_BLOB_CATEGORY,
      contentType: CONTENT_TYPES[file.kind],
      filename: file.filename,
    });
    const version: VersionRow = {
      tenantId: ctx.tenant.id,
      documentId: id,
      version: (latest?.version ?? 0) + 1,
      blobId: blob.id,
      kind: file.kind,
      size: blob.size,
      sha256: blob.sha256,
      pages: file.pages,
      decrypted: file.decrypted,
      note,
      uploadedAt: ctx.clock.now(),
      uploadedBy: actorLabel(ctx.actor),
    };
    await insertVersion(tx, version);
    await updateDocument(tx, ctx.tenant.id, id, {
      currentVersion: version.version,
      updatedAt: version.uploadedAt,
      updatedBy: version.uploadedBy,
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.version_uploaded',
      target: { type: 'document', id },
      details: {
        version: version.version,
        replaces: latest?.version ?? null,
        kind: file.kind,
        size: version.size,
        sha256: version.sha256,
        pages: file.pages,
        decrypted: file.decrypted,
        grantsSeeNewVersion: document.grantsSeeNewVersion,
      },
    });
    await announceEveryPageChanged(tx, ctx.tenant.id);
    return version;
  });
  forgetPublicPages(ctx);
  return stored;
}

/**
 * A version's file as uploaded (after decryption), for staff: never stamped, so recorded as a download
 * every time. Needs `documents.read`.
 */
export async function downloadVersion(ctx: RequestContext, id: string, versionNumber: number): Promise<VersionFile> {
  requirePermission(ctx.actor, 'documents.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const version = await readVersion(tx, ctx.tenant.id, id, versionNumber);
    if (!version) throw new NotFound(`version ${versionNumber} of document`, id);
    const { blob, content } = await ctx.blobs.get(tx, ctx.tenant.id, version.blobId);
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'document.downloaded',
      target: { type: 'document', id },
      details: { version: version.version, kind: version.kind, size: version.size, by: 'staff' },
    });
    return {
      filename: blob.filename ?? `document-v${version.version}.${version.kind}`,
      contentType: CONTENT_TYPES[version.kind as FileKind],
      content,
      version,
    };
  });
}
