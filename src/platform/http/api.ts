import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './env.ts';

/**
 * A router for part of the JSON API. Routes declared with `createRoute` validate their input with zod and
 * describe themselves in /api/v1/openapi.json; invalid input becomes a 422 problem (see errors.tsx).
 */
export function createApi(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw result.error;
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: '/problems/not-found' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.record(z.string(), z.string()).optional(),
  })
  .openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error responses every authenticated endpoint can give, for the OpenAPI document. */
export const commonErrors = {
  401: problem('Missing, expired or revoked token'),
  403: problem('Not allowed'),
  429: problem('Rate limited'),
} as const;

export const validationErrors = {
  400: problem('Malformed request'),
  422: problem('Invalid input'),
} as const;

export const notFoundError = { 404: problem('Not found') } as const;

export const BEARER = [{ bearerAuth: [] }];
