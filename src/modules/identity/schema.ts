import { z } from 'zod';
import { ROLE_SLUGS } from './roles.ts';

export const Email = z.string().trim().toLowerCase().max(254).pipe(z.email('enter a valid email address'));

// NIST SP 800-63B: length over composition; the identity issue adds the breached-password list.
export const NewPassword = z.string().min(12, 'use at least 12 characters').max(256, 'use at most 256 characters');

export const OwnerSetupForm = z.object({
  name: z.string().trim().min(1, 'enter your name').max(120),
  email: Email,
  password: NewPassword,
});
export type OwnerSetupForm = z.infer<typeof OwnerSetupForm>;

export const LoginForm = z.object({
  email: Email,
  password: z.string().min(1, 'enter your password').max(256),
});

export const Role = z.enum(ROLE_SLUGS, { error: `must be one of: ${ROLE_SLUGS.join(', ')}` });

/** `30d`, `12h`, `90m` → milliseconds. */
export const Duration = z
  .string()
  .trim()
  .regex(/^\d+[dhm]$/, 'use a number followed by d, h or m (for example 30d)')
  .transform((v) => Number.parseInt(v, 10) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[v.slice(-1) as 'd' | 'h' | 'm'])
  .refine((ms) => ms > 0, 'must be longer than zero');

export const NewApiToken = z.object({
  name: z.string().trim().min(1, 'name the token').max(80),
  role: Role,
  expiresInMs: z.number().int().positive().optional(),
});
export type NewApiToken = z.infer<typeof NewApiToken>;

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
}

export interface ApiTokenInfo {
  id: string;
  name: string;
  prefix: string;
  role: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}
