import { z } from '@hono/zod-openapi';
import { LOCALES } from '../../platform/i18n/locales.ts';
import type { StoredDocument } from './tables.ts';

/** `file`: the id of a stored blob, set by an upload (never typed by a person). */
export type FieldKind = 'text' | 'markdown' | 'date' | 'email' | 'slug' | 'url' | 'file';

export interface FieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  required?: boolean;
  hint?: string;
}

/** What a section holds: top-level fields, and optionally a list of items each with the same fields. */
export interface SectionSpec {
  key: string;
  title: string;
  /** Where the public page lives. */
  path: string;
  description: string;
  fields: FieldSpec[];
  items?: { label: string; fields: FieldSpec[]; blankRows: number };
}

export { DEFAULT_LOCALE, LOCALES } from '../../platform/i18n/locales.ts';

/** The sections every Trust Center has, in navigation order. Policies are sections of their own (`policy:<slug>`). */
export const SECTIONS: readonly SectionSpec[] = [
  {
    key: 'overview',
    title: 'Overview',
    path: '/',
    description: 'The front page: a headline and an introduction.',
    fields: [
      { name: 'title', label: 'Headline', kind: 'text', required: true },
      { name: 'intro', label: 'Introduction', kind: 'markdown' },
    ],
  },
  {
    key: 'security',
    title: 'Security practices',
    path: '/security',
    description: 'How data is protected, grouped by theme.',
    fields: [{ name: 'intro', label: 'Introduction', kind: 'markdown' }],
    items: {
      label: 'Practice',
      blankRows: 3,
      fields: [
        { name: 'group', label: 'Group', kind: 'text', required: true, hint: 'e.g. Encryption, Hosting, Backups' },
        { name: 'title', label: 'Title', kind: 'text', required: true },
        { name: 'body', label: 'Description', kind: 'markdown' },
      ],
    },
  },
  {
    key: 'certifications',
    title: 'Certifications',
    path: '/certifications',
    description: 'Certifications and attestations; their status follows from the dates.',
    fields: [{ name: 'intro', label: 'Introduction', kind: 'markdown' }],
    items: {
      label: 'Certification',
      blankRows: 2,
      fields: [
        { name: 'standard', label: 'Standard', kind: 'text', required: true, hint: 'e.g. ISO/IEC 27001' },
        { name: 'version', label: 'Standard version', kind: 'text', hint: 'e.g. 2022' },
        { name: 'issuer', label: 'Issuer', kind: 'text', required: true },
        { name: 'scope', label: 'Scope', kind: 'markdown' },
        { name: 'validFrom', label: 'Valid from', kind: 'date', required: true },
        { name: 'validUntil', label: 'Valid until', kind: 'date', required: true },
        { name: 'certificate', label: 'Certificate file', kind: 'file', hint: 'PDF, PNG or JPEG, at most 10 MiB' },
      ],
    },
  },
  {
    key: 'faq',
    title: 'FAQ',
    path: '/faq',
    description: 'Questions by category, with answers that expand and links to each question.',
    fields: [{ name: 'intro', label: 'Introduction', kind: 'markdown' }],
    items: {
      label: 'Question',
      blankRows: 3,
      fields: [
        { name: 'category', label: 'Category', kind: 'text', required: true },
        { name: 'question', label: 'Question', kind: 'text', required: true },
        { name: 'answer', label: 'Answer', kind: 'markdown', required: true },
        {
          name: 'slug',
          label: 'Anchor',
          kind: 'slug',
          hint: 'Left empty, made from the question; kept when the question changes',
        },
      ],
    },
  },
  {
    key: 'data',
    title: 'Personal data we process',
    path: '/privacy/data',
    description: 'A public summary of the record of processing activities.',
    fields: [{ name: 'intro', label: 'Introduction', kind: 'markdown' }],
    items: {
      label: 'Data category',
      blankRows: 2,
      fields: [
        { name: 'category', label: 'Category', kind: 'text', required: true, hint: 'e.g. Contact data' },
        { name: 'purposes', label: 'Purposes', kind: 'markdown', required: true },
        { name: 'legalBasis', label: 'Legal basis', kind: 'text', required: true },
        { name: 'retention', label: 'Retention', kind: 'text', required: true },
      ],
    },
  },
  {
    key: 'subprocessors',
    title: 'Sub-processors',
    path: '/subprocessors',
    description: 'Who processes personal data on the company’s behalf.',
    fields: [{ name: 'intro', label: 'Introduction', kind: 'markdown' }],
    items: {
      label: 'Sub-processor',
      blankRows: 2,
      fields: [
        { name: 'name', label: 'Name', kind: 'text', required: true },
        { name: 'purpose', label: 'Purpose', kind: 'text', required: true },
        { name: 'location', label: 'Location', kind: 'text', required: true },
        { name: 'dataCategories', label: 'Data categories', kind: 'text' },
        { name: 'safeguards', label: 'Safeguards', kind: 'text' },
        { name: 'website', label: 'Website', kind: 'url' },
        {
          name: 'effectiveFrom',
          label: 'Effective from',
          kind: 'date',
          hint: 'A future date announces the sub-processor ahead: listed as an upcoming change until then',
        },
      ],
    },
  },
  {
    key: 'updates',
    title: 'Updates',
    path: '/updates',
    description: 'Security and incident notices, newest first.',
    fields: [{ name: 'intro', label: 'Introduction', kind: 'markdown' }],
    items: {
      label: 'Notice',
      blankRows: 1,
      fields: [
        { name: 'date', label: 'Date', kind: 'date', required: true },
        { name: 'title', label: 'Title', kind: 'text', required: true },
        { name: 'kind', label: 'Kind', kind: 'text', hint: 'security, incident or product' },
        { name: 'body', label: 'Text', kind: 'markdown', required: true },
        { name: 'slug', label: 'Anchor', kind: 'slug', hint: 'Left empty, made from the title' },
      ],
    },
  },
  {
    key: 'contact',
    title: 'Contact',
    path: '/contact',
    description: 'Where to reach the security, privacy and compliance teams.',
    fields: [
      { name: 'intro', label: 'Introduction', kind: 'markdown' },
      { name: 'security', label: 'Security address', kind: 'email' },
      { name: 'privacy', label: 'Privacy address', kind: 'email' },
      { name: 'compliance', label: 'Compliance address', kind: 'email' },
      { name: 'postal', label: 'Postal address', kind: 'markdown' },
    ],
  },
];

export const POLICY_SPEC: SectionSpec = {
  key: 'policy',
  title: 'Policy',
  path: '/policies',
  description: 'A policy: published only after an approver other than its author approved it.',
  fields: [
    { name: 'title', label: 'Title', kind: 'text', required: true },
    { name: 'summary', label: 'Summary', kind: 'text' },
    { name: 'body', label: 'Text', kind: 'markdown', required: true },
  ],
};

export const POLICY_PREFIX = 'policy:';

export function isPolicySection(section: string): boolean {
  return section.startsWith(POLICY_PREFIX);
}

export function policySlugOf(section: string): string {
  return section.slice(POLICY_PREFIX.length);
}

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The spec of a section key (`faq`, `policy:access-control`), or undefined when there is no such section. */
export function specOf(section: string): SectionSpec | undefined {
  if (isPolicySection(section)) return SLUG.test(policySlugOf(section)) ? POLICY_SPEC : undefined;
  return SECTIONS.find((s) => s.key === section);
}

export const MAX_TEXT = 300;
export const MAX_MARKDOWN = 40_000;
export const MAX_ITEMS = 300;

/** A lower-case, hyphenated anchor made from free text (`How is data encrypted?` → `how-is-data-encrypted`). */
export function slugify(text: string): string {
  return (
    text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80)
      .replace(/-+$/g, '') || 'item'
  );
}

// --- API shapes -------------------------------------------------------------------------------------------

export const DocumentJson = z
  .object({
    fields: z.record(z.string(), z.string()).default({}),
    items: z.array(z.record(z.string(), z.string())).default([]),
  })
  .openapi('TrustCenterDocument');
export type DocumentInput = z.input<typeof DocumentJson>;

/** `?locale=es`: which language's draft and versions a request reads or writes (English when absent). */
export const LocaleQuery = z.object({
  locale: z
    .enum(LOCALES)
    .default('en')
    .openapi({ param: { name: 'locale', in: 'query' }, description: 'The content’s language', example: 'es' }),
});

export const SectionParam = z.object({
  section: z
    .string()
    .max(120)
    .openapi({ param: { name: 'section', in: 'path' }, description: '`overview`, `faq`, … or `policy:<slug>`', example: 'faq' }),
});

export const VersionParam = SectionParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: 'version', in: 'path' } }),
});

export const DraftJson = z
  .object({
    section: z.string(),
    locale: z.string(),
    document: DocumentJson,
    updatedAt: z.iso.datetime(),
    updatedBy: z.string(),
    reviewState: z.enum(['draft', 'in_review', 'approved']),
    approvedBy: z.string().nullable(),
    publishAt: z.iso.datetime().nullable().openapi({ description: 'When the draft is scheduled to be published' }),
    publishedVersion: z.number().int().nullable(),
    unpublishedChanges: z.boolean(),
  })
  .openapi('TrustCenterDraft');

export const ScheduleJson = z
  .object({ publishAt: z.iso.datetime({ offset: true }).nullable().openapi({ example: '2026-12-01T09:00:00Z' }) })
  .openapi('TrustCenterSchedule');

export const VersionJson = z
  .object({
    section: z.string(),
    locale: z.string(),
    version: z.number().int(),
    document: DocumentJson,
    publishedAt: z.iso.datetime(),
    publishedBy: z.string(),
    approvedBy: z.string().nullable(),
    note: z.string().nullable(),
  })
  .openapi('TrustCenterVersion');

export const VersionsJson = z.object({ items: z.array(VersionJson.omit({ document: true })) }).openapi('TrustCenterVersions');
export const SectionsJson = z.object({ items: z.array(DraftJson.omit({ document: true })) }).openapi('TrustCenterSections');

export type { StoredDocument };

export const CertificateIndexParam = z.object({
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_ITEMS - 1)
    .openapi({ param: { name: 'index', in: 'path' }, description: 'The certification’s position in the draft, from 0' }),
});

export const CertificateUpload = z
  .object({
    file: z
      .custom<File>((value) => value instanceof File, 'attach the file as `file`')
      .openapi({ type: 'string', format: 'binary', description: 'PDF, PNG or JPEG, at most 10 MiB' }),
  })
  .openapi('TrustCenterCertificateUpload');

export const ExpiringJson = z
  .object({
    items: z.array(
      z.object({
        standard: z.string(),
        validUntil: z.string().openapi({ example: '2027-01-20' }),
        daysLeft: z.number().int().openapi({ description: 'Negative once expired' }),
      }),
    ),
  })
  .openapi('TrustCenterExpiringCertifications');

const Color = z.string().max(20).nullable().optional().openapi({ example: '#0b5d4b' });

export const BrandingUpdate = z
  .object({
    displayName: z.string().max(200).nullable().optional(),
    primaryColor: Color,
    accentColor: Color,
    removeLogo: z.boolean().optional(),
  })
  .openapi('TrustCenterBrandingUpdate');

export const BrandingJson = z
  .object({
    displayName: z.string().nullable(),
    primaryColor: z.string().nullable(),
    accentColor: z.string().nullable(),
    logoUrl: z.string().nullable(),
    updatedAt: z.iso.datetime().nullable(),
    updatedBy: z.string().nullable(),
  })
  .openapi('TrustCenterBranding');

export const DomainInput = z.object({ hostname: z.string().max(300).openapi({ example: 'trust.example.com' }) });

export const DomainJson = z
  .object({
    hostname: z.string(),
    token: z.string(),
    verified: z.boolean(),
    verifiedAt: z.iso.datetime().nullable(),
    lastCheckedAt: z.iso.datetime().nullable(),
    lastError: z.string().nullable(),
  })
  .openapi('TrustCenterDomain');

export const DomainsJson = z.object({ items: z.array(DomainJson) }).openapi('TrustCenterDomains');

export const HostnameParam = z.object({
  hostname: z
    .string()
    .max(300)
    .openapi({ param: { name: 'hostname', in: 'path' }, example: 'trust.example.com' }),
});
