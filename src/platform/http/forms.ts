import type { Context } from 'hono';
import type { z } from 'zod';
import { fieldErrors } from './errors.tsx';

export type FormResult<T> =
  | { ok: true; data: T; values: Record<string, string> }
  | { ok: false; errors: Record<string, string>; values: Record<string, string> };

export interface FormOptions {
  /**
   * Fields that may repeat (a group of checkboxes): the schema receives them as an array, possibly empty.
   * In `values` (to show the form again) they are joined with newlines.
   */
  lists?: readonly string[];
}

/**
 * Reads a urlencoded or multipart form and validates it. On failure the caller re-renders the form with
 * the returned errors and the values the person typed (never passwords: fields render them empty).
 */
export async function readForm<S extends z.ZodType>(
  c: Context,
  schema: S,
  options: FormOptions = {},
): Promise<FormResult<z.infer<S>>> {
  const body = await c.req.parseBody({ all: true });
  const lists = new Set(options.lists ?? []);
  const values: Record<string, string> = {};
  const input: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    const strings = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    if (lists.has(key)) {
      input[key] = strings;
      values[key] = strings.join('\n');
    } else if (strings.length > 0) {
      // A field sent twice where one is expected: the last one counts, as browsers and Hono did before.
      const last = strings.at(-1) ?? '';
      input[key] = last;
      values[key] = last;
    }
  }
  for (const key of lists) input[key] ??= [];
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, data: parsed.data, values };
  return { ok: false, errors: fieldErrors(parsed.error), values };
}
