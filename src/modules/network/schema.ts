import { z } from '@hono/zod-openapi';

/** The surfaces an allow-list guards: the back office (`/admin`, sign-in included) and the JSON API. */
export const ALLOWLIST_NAMES = ['admin', 'api'] as const;
export type AllowlistName = (typeof ALLOWLIST_NAMES)[number];

export const ALLOWLIST_TITLES: Record<AllowlistName, string> = { admin: 'back office', api: 'API' };

/** Enough for every office, VPN and cloud egress range of a company; the check walks the list per request. */
export const MAX_ALLOWLIST_ENTRIES = 200;
const MAX_LABEL = 80;

export const AllowlistParam = z.object({
  list: z.enum(ALLOWLIST_NAMES).openapi({ param: { name: 'list', in: 'path' }, description: '`admin` or `api`' }),
});

export const AllowlistEntryInput = z.object({
  cidr: z.string().trim().min(1, 'enter an address or CIDR range').max(64, 'use at most 64 characters').openapi({
    description: 'An IPv4 or IPv6 range (`203.0.113.0/24`, `2001:db8::/32`); a bare address is a /32 or /128',
    example: '203.0.113.0/24',
  }),
  label: z
    .string()
    .trim()
    .max(MAX_LABEL, `use at most ${MAX_LABEL} characters`)
    .default('')
    .openapi({ description: 'What the range is (an office, a VPN)', example: 'Berlin office' }),
});
export type AllowlistEntryInput = z.input<typeof AllowlistEntryInput>;

/** A whole list as it is saved: replacing it is one decision, recorded with before and after. */
export const AllowlistUpdate = z
  .object({
    enabled: z.boolean().openapi({ description: 'Off lets every address in; on lets in only the listed ranges' }),
    entries: z
      .array(AllowlistEntryInput)
      .max(MAX_ALLOWLIST_ENTRIES, `use at most ${MAX_ALLOWLIST_ENTRIES} entries`)
      .openapi({ description: 'The ranges let in while the list is on' }),
  })
  .openapi('AllowlistUpdate');
export type AllowlistUpdate = z.input<typeof AllowlistUpdate>;

export interface AllowlistEntry {
  /** Canonical CIDR text (`203.0.113.0/24`, `2001:db8::/32`, `198.51.100.7/32`). */
  cidr: string;
  label: string;
}

export interface Allowlist {
  list: AllowlistName;
  enabled: boolean;
  entries: AllowlistEntry[];
  updatedAt: Date | null;
  updatedBy: string | null;
}

const EntryJson = z.object({ cidr: z.string(), label: z.string() });

export const AllowlistJson = z
  .object({
    list: z.enum(ALLOWLIST_NAMES),
    enabled: z.boolean(),
    entries: z.array(EntryJson),
    updatedAt: z.iso.datetime().nullable(),
    updatedBy: z.string().nullable(),
    yourAddress: z.string().openapi({ description: 'The address this request came from, as Candor sees it' }),
    yourAddressInside: z.boolean().openapi({ description: 'Whether that address is in the list' }),
  })
  .openapi('Allowlist');

export const AllowlistsJson = z.object({ items: z.array(AllowlistJson) }).openapi('Allowlists');

/** The back-office form: a switch and one entry a line, `CIDR label…`. */
export const AllowlistForm = z.object({
  enabled: z
    .string()
    .optional()
    .transform((v) => v === 'on'),
  entries: z.string().max(20_000, 'the list is too long').default(''),
});
