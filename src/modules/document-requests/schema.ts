import { z } from '@hono/zod-openapi';

const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'use at most 254 characters')
  .regex(/^[^\s@<>()"]+@[^\s@<>()"]+\.[^\s@<>()"]+$/, 'enter an email address');

/** The public request form (documents arrive as a list of checkboxes). */
export const RequestForm = z.object({
  name: z.string().trim().min(1, 'enter your name').max(200, 'use at most 200 characters'),
  email: Email,
  company: z.string().trim().min(1, 'enter your company').max(200, 'use at most 200 characters'),
  reason: z.string().trim().max(2000, 'use at most 2,000 characters').default(''),
  documents: z.array(z.uuid('choose a document from the list')).min(1, 'choose at least one document').max(50),
});
export type RequestInput = z.infer<typeof RequestForm>;

export const NdaForm = z.object({
  typedName: z.string().trim().min(1, 'type your full name').max(200, 'use at most 200 characters'),
  agree: z.literal('on', 'tick the box to agree'),
});

export const NdaText = z
  .object({
    text: z.string().trim().min(20, 'write the agreement (at least 20 characters)').max(50_000, 'use at most 50,000 characters'),
  })
  .openapi('NdaText');

export const Denial = z
  .object({ reason: z.string().trim().min(1, 'give a reason: the requester reads it').max(1000, 'use at most 1,000 characters') })
  .openapi('RequestDenial');

export const AccessSettingsInput = z
  .object({ blockedDomains: z.array(z.string()).max(5000), allowedDomains: z.array(z.string()).max(5000) })
  .openapi('DocumentAccessSettingsInput');

export const IdParam = z.object({ id: z.uuid('not an id').openapi({ param: { name: 'id', in: 'path' } }) });

const STATES = ['unverified', 'nda', 'pending', 'approved', 'denied', 'refused'] as const;

export const GrantJson = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    versions: z.record(z.string(), z.number().int()),
    expiresAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
    revokedBy: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .openapi('DocumentGrant');

export const RequestJson = z
  .object({
    id: z.uuid(),
    name: z.string(),
    email: z.string(),
    company: z.string(),
    reason: z.string(),
    documentIds: z.array(z.uuid()),
    state: z.enum(STATES),
    rule: z.string().nullable(),
    createdAt: z.iso.datetime(),
    verifiedAt: z.iso.datetime().nullable(),
    decidedAt: z.iso.datetime().nullable(),
    decidedBy: z.string().nullable(),
    decisionReason: z.string().nullable(),
    nda: z
      .object({
        version: z.number().int(),
        sha256: z.string(),
        typedName: z.string(),
        ip: z.string(),
        userAgent: z.string(),
        signedAt: z.iso.datetime(),
      })
      .nullable(),
    grants: z.array(GrantJson),
  })
  .openapi('DocumentRequest');

export const NdaJson = z
  .object({ version: z.number().int(), text: z.string(), sha256: z.string(), createdAt: z.iso.datetime(), createdBy: z.string() })
  .openapi('NdaVersion');

export const AccessSettingsJson = z
  .object({ blockedDomains: z.array(z.string()), allowedDomains: z.array(z.string()) })
  .openapi('DocumentAccessSettings');

// --- leak lookup and analytics ----------------------------------------------------------------------------

export const TraceJson = z
  .object({
    grant: GrantJson,
    requester: z.object({ name: z.string(), email: z.string(), company: z.string() }),
    request: z.object({
      id: z.uuid(),
      state: z.enum(STATES),
      reason: z.string(),
      createdAt: z.iso.datetime(),
      ip: z.string(),
      decidedAt: z.iso.datetime().nullable(),
      decidedBy: z.string().nullable(),
      rule: z.string().nullable(),
      decisionReason: z.string().nullable(),
    }),
    nda: z
      .object({
        version: z.number().int(),
        sha256: z.string(),
        typedName: z.string(),
        signedAt: z.iso.datetime(),
        ip: z.string(),
        userAgent: z.string(),
      })
      .nullable(),
    documents: z.array(
      z.object({ id: z.uuid(), title: z.string().nullable(), version: z.number().int(), sha256: z.string().nullable() }),
    ),
    accesses: z.array(
      z.object({
        kind: z.enum(['viewed', 'downloaded']),
        at: z.iso.datetime(),
        documents: z.array(z.object({ id: z.uuid(), title: z.string().nullable(), version: z.number().int().nullable() })),
        ip: z.string().nullable(),
        userAgent: z.string().nullable(),
      }),
    ),
  })
  .openapi('DocumentGrantTrace');

export const TraceUpload = z
  .object({
    file: z.any().openapi({ type: 'string', format: 'binary', description: 'The stamped PDF (at most 25 MiB); it is not kept.' }),
  })
  .openapi('DocumentTraceUpload');

const CountsJson = z
  .object({
    requested: z.number().int(),
    approved: z.number().int(),
    denied: z.number().int(),
    viewed: z.number().int(),
    downloaded: z.number().int(),
  })
  .openapi('DocumentAccessCounts');

export const AnalyticsQuery = z.object({
  from: z.string().optional().openapi({ description: 'First day counted, YYYY-MM-DD (UTC). Default: 89 days before `to`.' }),
  to: z.string().optional().openapi({ description: 'Last day counted, YYYY-MM-DD (UTC), inclusive. Default: today.' }),
  format: z.enum(['json', 'csv']).default('json'),
});

export const AnalyticsJson = z
  .object({
    period: z.object({ from: z.string(), to: z.string() }),
    totals: CountsJson,
    documents: z.array(z.object({ id: z.uuid(), title: z.string().nullable(), counts: CountsJson })),
    domains: z.array(z.object({ domain: z.string(), companies: z.array(z.string()), counts: CountsJson })),
    weeks: z.array(z.object({ week: z.string(), counts: CountsJson })),
  })
  .openapi('DocumentAnalytics');
