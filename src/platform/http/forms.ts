import type { Context } from 'hono';
import type { z } from 'zod';
import { fieldErrors } from './errors.tsx';

export type FormResult<T> =
  | { ok: true; data: T; values: Record<string, string> }
  | { ok: false; errors: Record<string, string>; values: Record<string, string> };

/**
 * Reads a urlencoded or multipart form and validates it. On failure the caller re-renders the form with
 * the returned errors and the values the person typed (never passwords: fields render them empty).
 */
export async function readForm<S extends z.ZodType>(c: Context, schema: S): Promise<FormResult<z.infer<S>>> {
  const body = await c.req.parseBody();
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') values[key] = value;
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  return { ok: false, errors: fieldErrors(parsed.error), values };
}
