import { z } from 'zod';

export const TenantSlug = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'use 1–63 lower-case letters, digits and inner hyphens');

/** A host name as a browser sends it, without port; IP literals are allowed for trials. */
export const HostName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$|^\[[0-9a-f:.]+\]$/,
    'is not a valid host name',
  );

export const NewTenant = z.object({
  slug: TenantSlug,
  name: z.string().trim().min(1, 'is required').max(120),
  hosts: z.array(HostName).default([]),
  contactEmail: z.email().optional(),
});
export type NewTenant = z.input<typeof NewTenant>;

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  hosts: string[];
  contactEmail: string | null;
  createdAt: Date;
}
