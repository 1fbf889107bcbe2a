import { z } from '@hono/zod-openapi';

/** A six-digit TOTP code; spaces a person types between the digit groups are ignored. */
export const TotpCode = z
  .string()
  .transform((s) => s.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^\d{6}$/, 'enter the six digits your authenticator app shows'));

/** A base32 TOTP secret as generated for an enrolment (20 random bytes → 32 characters). */
export const TotpSecret = z.string().regex(/^[A-Z2-7]{32}$/, 'the enrolment has expired; reload the page');

export const ConfirmTotpForm = z.object({ secret: TotpSecret, code: TotpCode });
export type ConfirmTotpForm = z.infer<typeof ConfirmTotpForm>;

export const RecoveryCode = z
  .string()
  .transform((s) => s.replace(/[\s-]+/g, '').toLowerCase())
  .pipe(z.string().regex(/^[a-z2-7]{10}$/, 'a recovery code has ten letters and digits, like abcde-23456'));

/** The challenge form: one of the two is filled in. */
export const ChallengeForm = z
  .object({
    code: z.string().max(32).optional(),
    recoveryCode: z.string().max(64).optional(),
  })
  .refine((v) => Boolean(v.code?.trim() || v.recoveryCode?.trim()), {
    message: 'enter the code from your authenticator app or a recovery code',
    path: ['code'],
  });
export type ChallengeForm = z.infer<typeof ChallengeForm>;

/** Removing a factor or regenerating codes needs the current password or a current code. */
export const ReauthForm = z
  .object({
    password: z.string().max(1024).optional(),
    code: z.string().max(32).optional(),
  })
  .refine((v) => Boolean(v.password || v.code?.trim()), {
    message: 'enter your password or a code from your authenticator app',
    path: ['password'],
  });
export type ReauthForm = z.infer<typeof ReauthForm>;

export const PasswordForm = z.object({ password: z.string().min(1, 'enter your password').max(1024) });

export const PasskeyName = z.string().trim().min(1, 'name the passkey').max(80);

/** What the browser sends back from navigator.credentials (the JSON form of a PublicKeyCredential). */
const WebAuthnResponse = z.looseObject({
  id: z.string().min(1).max(1024),
  rawId: z.string().min(1).max(1024),
  type: z.literal('public-key'),
  response: z.looseObject({ clientDataJSON: z.string().min(1).max(4096) }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

export const PasskeyRegistrationBody = z.object({ name: PasskeyName, response: WebAuthnResponse });
export type PasskeyRegistrationBody = z.infer<typeof PasskeyRegistrationBody>;
export const PasskeyAssertionBody = z.object({ response: WebAuthnResponse });
export type PasskeyAssertionBody = z.infer<typeof PasskeyAssertionBody>;

export const MfaPolicyBody = z
  .object({
    roles: z
      .array(z.string().min(1).max(64))
      .max(100)
      .openapi({ description: 'The roles whose holders must use a second factor', example: ['owner', 'security-admin'] }),
  })
  .openapi('MfaPolicyUpdate');
export type MfaPolicyBody = z.infer<typeof MfaPolicyBody>;

export const MfaPolicyJson = z
  .object({
    roles: z.array(z.string()),
    updatedAt: z.string().nullable().openapi({ description: 'When the policy was last changed; null: the default' }),
  })
  .openapi('MfaPolicy');

export const MfaStatusJson = z
  .object({
    userId: z.string().uuid(),
    enrolled: z.boolean().openapi({ description: 'Whether the person has any second factor' }),
    totp: z.boolean(),
    recoveryCodesLeft: z.number().int(),
    passkeys: z.array(
      z.object({ id: z.string().uuid(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() }),
    ),
    required: z.boolean().openapi({ description: 'Whether the policy requires a second factor of this person' }),
  })
  .openapi('MfaStatus');

export const UserIdParam = z.object({ id: z.string().uuid() });
