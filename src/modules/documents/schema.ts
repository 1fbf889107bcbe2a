import { z } from '@hono/zod-openapi';
import { CONTENT_TYPES, type FileKind } from './files.ts';

export const ACCESS_LEVELS = ['public', 'nda', 'approval', 'internal'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const ACCESS_LEVEL_LABELS: Record<AccessLevel, string> = {
  public: 'Public: anyone may download it',
  nda: 'NDA: after the requester signs the NDA',
  approval: 'Approval: after the NDA and an approver’s decision',
  internal: 'Internal: staff only, never sent to requesters',
};

const title = z.string().trim().min(1, 'enter a title').max(200, 'use at most 200 characters');
const description = z.string().trim().max(2000, 'use at most 2,000 characters');
const accessLevel = z.enum(ACCESS_LEVELS, { error: 'choose public, NDA, approval or internal' });
/** Days a grant to this document lasts; null for the 30-day default. */
const grantDays = z
  .number({ error: 'enter a whole number of days, or leave it empty for 30' })
  .int('enter a whole number of days')
  .min(1, 'at least 1 day')
  .max(365, 'at most 365 days')
  .nullable();

/** A document's editable fields and settings, from the form or the API. */
export const DocumentFields = z
  .object({
    title,
    description: description.default(''),
    accessLevel,
    grantsSeeNewVersion: z.boolean().default(true),
    nonPdfDownloadAllowed: z.boolean().default(false),
    viewOnly: z.boolean().default(false),
    grantDays: grantDays.default(null),
  })
  .openapi('DocumentFields');
export type DocumentFields = z.input<typeof DocumentFields>;

/** A partial change (API PATCH): only the fields given change (no defaults, so nothing unsaid moves). */
export const DocumentChange = z
  .object({
    title: title.optional(),
    description: description.optional(),
    accessLevel: accessLevel.optional(),
    grantsSeeNewVersion: z.boolean().optional(),
    nonPdfDownloadAllowed: z.boolean().optional(),
    viewOnly: z.boolean().optional(),
    grantDays: grantDays.optional(),
  })
  .openapi('DocumentChange');
export type DocumentChange = z.input<typeof DocumentChange>;

export const DocumentIdParam = z.object({
  id: z.uuid('not a document id').openapi({ param: { name: 'id', in: 'path' } }),
});
export const VersionParams = DocumentIdParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: 'version', in: 'path' }, type: 'integer' }),
});

export const VersionJson = z
  .object({
    version: z.number().int(),
    filename: z.string().nullable(),
    kind: z.enum(Object.keys(CONTENT_TYPES) as [FileKind, ...FileKind[]]),
    contentType: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    pages: z.number().int().nullable(),
    decrypted: z.boolean().openapi({ description: 'Uploaded with an owner password only; stored decrypted.' }),
    note: z.string(),
    uploadedAt: z.string(),
    uploadedBy: z.string(),
    current: z.boolean(),
  })
  .openapi('DocumentVersion');

export const DocumentJson = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    accessLevel: z.enum(ACCESS_LEVELS),
    grantsSeeNewVersion: z.boolean(),
    nonPdfDownloadAllowed: z.boolean(),
    viewOnly: z.boolean().openapi({
      description:
        'Requesters see the pages in their browser, with no download link, and the download address refuses the document. ' +
        'A deterrent, not a protection: the stamped PDF still reaches the browser.',
    }),
    grantDays: z.number().int().nullable().openapi({ description: 'Days a grant lasts; null for the 30-day default.' }),
    currentVersion: z.number().int().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .openapi('Document');

export const DocumentDetailJson = DocumentJson.extend({ versions: z.array(VersionJson) }).openapi('DocumentDetail');
export const DocumentsJson = z.object({ items: z.array(DocumentJson) }).openapi('Documents');

export const UploadForm = z
  .object({
    file: z
      .any()
      .openapi({ type: 'string', format: 'binary', description: 'The file (PDF, XLSX, DOCX, PPTX or ZIP; at most 25 MiB).' }),
    note: z.string().max(500).optional().openapi({ description: 'What changed in this version.' }),
  })
  .openapi('DocumentUpload');

/** What a form or a caller hands the service before validation (the service checks every field). */
export type UncheckedDocumentFields = { [K in keyof DocumentFields]?: unknown };
