import { createRoute } from '@hono/zod-openapi';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { InvalidInput, NotFound, PayloadTooLarge } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import type { FieldErrors } from '../../platform/ui/components.tsx';
import { can, routeRequires } from '../access/service.ts';
import { MAX_UPLOAD_BYTES } from './files.ts';
import {
  DocumentChange,
  DocumentDetailJson,
  DocumentFields,
  DocumentIdParam,
  DocumentJson,
  DocumentsJson,
  UploadForm,
  VersionJson,
  VersionParams,
} from './schema.ts';
import {
  changeDocument,
  createDocument,
  type DocumentView,
  downloadVersion,
  getDocument,
  listDocuments,
  uploadVersion,
  type VersionFile,
  type VersionView,
} from './service.ts';
import type { DocumentRow } from './store.ts';
import { type DocumentFormValues, DocumentPage, DocumentsPage, NewDocumentPage } from './views/documents.tsx';

// --- uploads: a larger body than the rest of the app, still counted while it arrives --------------------------

/** Room for the form's other fields and the multipart framing around a file at the limit. */
const UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024;
const UPLOAD_PATH = /^\/(?:admin|api\/v1)\/documents\/[^/]+\/versions\/?$/;

/** Whether a request is a document upload (the app's general 1 MiB limit leaves these to `uploadBodyLimit`). */
export function isDocumentUpload(method: string, path: string): boolean {
  return method === 'POST' && UPLOAD_PATH.test(path);
}

/** Refuses an upload body larger than the file limit as it streams in, before it is held whole. */
export const uploadBodyLimit: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: UPLOAD_BODY_LIMIT,
  onError: () => {
    throw new HTTPException(413, { message: `the file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB` });
  },
});

interface ReadUpload {
  filename: string;
  bytes: Uint8Array;
  note: string | undefined;
}

async function readUpload(c: AppContext): Promise<ReadUpload> {
  const body = await c.req.parseBody();
  const file = body.file;
  const note = typeof body.note === 'string' ? body.note : undefined;
  if (!(file instanceof File)) throw new InvalidInput('choose a file to upload', { file: 'choose a file to upload' });
  return { filename: file.name, bytes: new Uint8Array(await file.arrayBuffer()), note };
}

function sendFile(c: AppContext, file: VersionFile): Response {
  const ascii = file.filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return c.body(file.content as Uint8Array<ArrayBuffer>, 200, {
    'content-type': file.contentType,
    'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
    'content-length': String(file.content.byteLength),
    // Each download is recorded and the next may be refused: no copy is kept along the way.
    'cache-control': 'no-store',
  });
}

// --- back office ------------------------------------------------------------------------------------------

export const documentsPages = new Hono<AppEnv>();

function formValues(body: Record<string, unknown>): DocumentFormValues {
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    title: text(body.title),
    description: text(body.description),
    accessLevel: text(body.accessLevel),
    grantsSeeNewVersion: body.grantsSeeNewVersion === 'on',
    nonPdfDownloadAllowed: body.nonPdfDownloadAllowed === 'on',
    viewOnly: body.viewOnly === 'on',
    grantDays: text(body.grantDays).trim(),
  };
}

/** The form's values as the service takes them: an empty duration is the default, anything else a number. */
function fieldsOf(values: DocumentFormValues) {
  const days = values.grantDays;
  return { ...values, grantDays: days === '' ? null : /^\d+$/.test(days) ? Number(days) : days };
}

async function renderDocument(
  c: AppContext,
  id: string,
  extra: { values?: DocumentFormValues; errors?: FieldErrors; uploadError?: string; uploadNote?: string } = {},
  status: 200 | 413 | 422 = 200,
) {
  const view: DocumentView = await getDocument(requestContext(c), id);
  return renderAdmin(
    c,
    view.document.title,
    <DocumentPage view={view} csrfToken={csrfTokenOf(c)} canManage={can(c.var.actor, 'documents.manage')} {...extra} />,
    status,
  );
}

documentsPages.get('/admin/documents', routeRequires('documents.read'), async (c) =>
  renderAdmin(
    c,
    'Documents',
    <DocumentsPage documents={await listDocuments(requestContext(c))} canManage={can(c.var.actor, 'documents.manage')} />,
  ),
);

documentsPages.get('/admin/documents/new', routeRequires('documents.manage'), (c) =>
  renderAdmin(c, 'New document', <NewDocumentPage csrfToken={csrfTokenOf(c)} />),
);

documentsPages.post('/admin/documents', routeRequires('documents.manage'), async (c) => {
  const values = formValues(await c.req.parseBody());
  try {
    const created = await createDocument(requestContext(c), fieldsOf(values));
    return redirectWithFlash(c, `/admin/documents/${created.id}`, 'The document is created. Upload its file next.');
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return renderAdmin(
      c,
      'New document',
      <NewDocumentPage csrfToken={csrfTokenOf(c)} values={values} errors={error.fields} />,
      422,
    );
  }
});

function documentId(c: AppContext): string {
  const parsed = DocumentIdParam.safeParse({ id: c.req.param('id') });
  if (!parsed.success) throw new NotFound('document', c.req.param('id'));
  return parsed.data.id;
}

documentsPages.get('/admin/documents/:id', routeRequires('documents.read'), (c) => renderDocument(c, documentId(c)));

documentsPages.post('/admin/documents/:id', routeRequires('documents.manage'), async (c) => {
  const id = documentId(c);
  const values = formValues(await c.req.parseBody());
  try {
    await changeDocument(requestContext(c), id, fieldsOf(values));
    return redirectWithFlash(c, `/admin/documents/${id}`, 'The settings are saved.');
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return renderDocument(c, id, { values, errors: error.fields }, 422);
  }
});

documentsPages.post('/admin/documents/:id/versions', routeRequires('documents.manage'), async (c) => {
  const id = documentId(c);
  let note: string | undefined;
  try {
    const upload = await readUpload(c);
    note = upload.note;
    const version = await uploadVersion(requestContext(c), id, upload);
    return redirectWithFlash(
      c,
      `/admin/documents/${id}`,
      `Version ${version.version} is uploaded and is now the current version.`,
    );
  } catch (error) {
    if (error instanceof InvalidInput)
      return renderDocument(c, id, { uploadError: error.fields.file ?? error.message, uploadNote: note ?? '' }, 422);
    if (error instanceof PayloadTooLarge)
      return renderDocument(c, id, { uploadError: error.message, uploadNote: note ?? '' }, 413);
    throw error;
  }
});

documentsPages.get('/admin/documents/:id/versions/:version{[0-9]+}/file', routeRequires('documents.read'), async (c) =>
  sendFile(c, await downloadVersion(requestContext(c), documentId(c), Number(c.req.param('version')))),
);

// --- JSON API ---------------------------------------------------------------------------------------------

function documentJson(d: DocumentRow) {
  return {
    id: d.id,
    title: d.title,
    description: d.description,
    accessLevel: d.accessLevel as 'public' | 'nda' | 'approval' | 'internal',
    grantsSeeNewVersion: d.grantsSeeNewVersion,
    nonPdfDownloadAllowed: d.nonPdfDownloadAllowed,
    viewOnly: d.viewOnly,
    grantDays: d.grantDays,
    currentVersion: d.currentVersion,
    createdAt: d.createdAt.toISOString(),
    createdBy: d.createdBy,
    updatedAt: d.updatedAt.toISOString(),
    updatedBy: d.updatedBy,
  };
}

function versionJson(v: VersionView) {
  return {
    version: v.version,
    filename: v.filename,
    kind: v.kind as 'pdf' | 'xlsx' | 'docx' | 'pptx' | 'zip',
    contentType: v.contentType,
    size: v.size,
    sha256: v.sha256,
    pages: v.pages,
    decrypted: v.decrypted,
    note: v.note,
    uploadedAt: v.uploadedAt.toISOString(),
    uploadedBy: v.uploadedBy,
    current: v.current,
  };
}

function detailJson(view: DocumentView) {
  return { ...documentJson(view.document), versions: view.versions.map(versionJson) };
}

export const documentsApi = createApi();
const TAGS = ['Documents'];
const errors = { ...commonErrors, ...notFoundError };
const json = <S,>(schema: S) => ({ 'application/json': { schema } });

documentsApi.openapi(
  createRoute({
    method: 'get',
    path: '/documents',
    tags: TAGS,
    summary: 'Gated documents',
    description: 'Every document with its access level and current version, by title. Needs `documents.read`.',
    security: BEARER,
    responses: { 200: { description: 'Documents', content: json(DocumentsJson) }, ...commonErrors },
  }),
  async (c) => c.json({ items: (await listDocuments(requestContext(c))).map(documentJson) }, 200),
);

documentsApi.openapi(
  createRoute({
    method: 'post',
    path: '/documents',
    tags: TAGS,
    summary: 'Create a document',
    description:
      'A document with no file yet; upload one with `POST /documents/{id}/versions`. Needs `documents.manage`. Recorded as `document.created`.',
    middleware: [routeRequires('documents.manage')],
    security: BEARER,
    request: { body: { required: true, content: json(DocumentFields) } },
    responses: { 201: { description: 'The document', content: json(DocumentJson) }, ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(documentJson(await createDocument(requestContext(c), c.req.valid('json'))), 201),
);

documentsApi.openapi(
  createRoute({
    method: 'get',
    path: '/documents/{id}',
    tags: TAGS,
    summary: 'A document and its version history',
    description: 'Versions newest first. Needs `documents.read`.',
    security: BEARER,
    request: { params: DocumentIdParam },
    responses: { 200: { description: 'The document', content: json(DocumentDetailJson) }, ...errors, ...validationErrors },
  }),
  async (c) => c.json(detailJson(await getDocument(requestContext(c), c.req.valid('param').id)), 200),
);

documentsApi.openapi(
  createRoute({
    method: 'patch',
    path: '/documents/{id}',
    tags: TAGS,
    summary: 'Change a document’s text or settings',
    description:
      'Only the fields given change. `grantsSeeNewVersion` decides whether open grants see a newly uploaded version; ' +
      '`nonPdfDownloadAllowed` whether requesters may download versions that are not PDFs; `viewOnly` whether requesters ' +
      'only see the pages in their browser (a deterrent: the bytes still reach it). Needs `documents.manage`. ' +
      'Recorded as `document.updated`.',
    middleware: [routeRequires('documents.manage')],
    security: BEARER,
    request: { params: DocumentIdParam, body: { required: true, content: json(DocumentChange) } },
    responses: { 200: { description: 'The document', content: json(DocumentJson) }, ...errors, ...validationErrors },
  }),
  async (c) => c.json(documentJson(await changeDocument(requestContext(c), c.req.valid('param').id, c.req.valid('json'))), 200),
);

documentsApi.openapi(
  createRoute({
    method: 'post',
    path: '/documents/{id}/versions',
    tags: TAGS,
    summary: 'Upload a new version',
    description:
      'Multipart form with `file` (and an optional `note`). The content decides the type: a PDF must start with `%PDF-`; ' +
      '.xlsx/.docx/.pptx must be ZIP files holding their format’s main part; .zip any ZIP. A name and content that disagree are ' +
      'refused with 422, a file over 25 MiB with 413 (counted while it arrives); nothing is stored on refusal (recorded as ' +
      '`document.upload_refused`). A PDF with an owner password only is stored decrypted; one that needs a password to open is ' +
      'refused. The new version becomes current. Needs `documents.manage`. Recorded as `document.version_uploaded`.',
    middleware: [routeRequires('documents.manage')],
    security: BEARER,
    request: { params: DocumentIdParam, body: { required: true, content: { 'multipart/form-data': { schema: UploadForm } } } },
    responses: {
      201: { description: 'The new version', content: json(VersionJson) },
      ...errors,
      ...validationErrors,
      413: { description: 'The file is larger than 25 MiB', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { id } = c.req.valid('param');
    const version = await uploadVersion(ctx, id, await readUpload(c));
    const view = await getDocument(ctx, id);
    const stored = view.versions.find((v) => v.version === version.version);
    if (!stored) throw new NotFound(`version ${version.version} of document`, id);
    return c.json(versionJson(stored), 201);
  },
);

documentsApi.openapi(
  createRoute({
    method: 'get',
    path: '/documents/{id}/versions/{version}/file',
    tags: TAGS,
    summary: 'Download a version’s file (staff)',
    description:
      'The file as stored (decrypted at upload if it was protected by an owner password), not stamped. Needs `documents.read`; ' +
      'every download is recorded as `document.downloaded`. Sent with `Cache-Control: no-store`.',
    security: BEARER,
    request: { params: VersionParams },
    responses: {
      200: {
        description: 'The file',
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      ...errors,
      ...validationErrors,
    },
  }),
  async (c) => {
    const { id, version } = c.req.valid('param');
    return sendFile(c, await downloadVersion(requestContext(c), id, version));
  },
);
