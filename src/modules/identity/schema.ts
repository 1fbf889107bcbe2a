import { z } from 'zod';
import { type Permission, PermissionList, RoleRef } from '../access/service.ts';
import { passwordProblem } from './passwords.ts';

export const Email = z.string().trim().toLowerCase().max(254).pipe(z.email('enter a valid email address'));

/**
 * A new password under the rules in passwords.ts that need no context (length, common passwords); the
 * service checks the tenant's and the person's own words again with that context.
 */
export const NewPassword = z.string().superRefine((password, check) => {
  const problem = passwordProblem(password);
  if (problem) check.addIssue({ code: 'custom', message: problem });
});

export const ChangePasswordForm = z.object({
  currentPassword: z.string().min(1, 'enter your current password').max(1024),
  newPassword: NewPassword,
});
export type ChangePasswordForm = z.infer<typeof ChangePasswordForm>;

export const OwnerSetupForm = z.object({
  name: z.string().trim().min(1, 'enter your name').max(120),
  email: Email,
  password: NewPassword,
});
export type OwnerSetupForm = z.infer<typeof OwnerSetupForm>;

export const InvitationForm = z.object({
  name: z.string().trim().min(1, 'enter your name').max(120),
  password: NewPassword,
});
export type InvitationForm = z.infer<typeof InvitationForm>;

export const LoginForm = z.object({
  email: Email,
  password: z.string().min(1, 'enter your password').max(256),
});

/** A new person, created with one role (more can be granted afterwards). */
export const NewPerson = z.object({
  email: Email,
  name: z.string().trim().min(1, 'enter a name').max(120),
  role: RoleRef,
});
export type NewPerson = z.infer<typeof NewPerson>;

/** `30d`, `12h`, `90m` → milliseconds. */
export const Duration = z
  .string()
  .trim()
  .regex(/^\d+[dhm]$/, 'use a number followed by d, h or m (for example 30d)')
  .transform((v) => Number.parseInt(v, 10) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[v.slice(-1) as 'd' | 'h' | 'm'])
  .refine((ms) => ms > 0, 'must be longer than zero');

/**
 * A new API token's scopes: listed permissions, a role as a shortcut for that role's permissions, or both
 * (their union). Either way the creator must hold every one of them.
 */
export const NewApiToken = z.object({
  name: z.string().trim().min(1, 'name the token').max(80),
  permissions: PermissionList.default([]),
  role: RoleRef.optional(),
  expiresInMs: z.number().int().positive().optional(),
  /** CIDR ranges (or bare addresses) the token may be used from; empty or absent means anywhere. */
  allowedIps: z.array(z.string().trim().max(64)).max(50, 'use at most 50 ranges').optional(),
});
export type NewApiToken = z.input<typeof NewApiToken>;

export interface User {
  id: string;
  email: string;
  name: string;
  /** Offboarded people keep their row (the trail names them) but can do nothing. */
  deactivatedAt: Date | null;
}

/** How a session was opened. `sso` and `passkey` sessions carry their own strength (see SessionHow). */
export type SessionMethod = 'password' | 'setup-link' | 'invitation' | 'passkey' | 'sso';

export interface ApiTokenInfo {
  id: string;
  name: string;
  prefix: string;
  permissions: Permission[];
  createdById: string | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
  /** Canonical CIDR ranges the token may be used from; null means anywhere. */
  allowedIps: string[] | null;
}
