import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Flash } from '../ui/components.tsx';

const FLASH_COOKIE = 'candor_flash';

/** Post → redirect → get: the message survives the redirect in a short-lived cookie. */
export function redirectWithFlash(c: Context, location: string, message: string, kind: Flash['kind'] = 'success'): Response {
  setCookie(c, FLASH_COOKIE, Buffer.from(JSON.stringify({ kind, message })).toString('base64url'), {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: 60,
  });
  return c.redirect(location, 303);
}

/** Reads and clears the pending flash message, if any. */
export function takeFlash(c: Context): Flash | undefined {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return undefined;
  deleteCookie(c, FLASH_COOKIE, { path: '/' });
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Flash>;
    if (typeof parsed.message !== 'string') return undefined;
    const kind = parsed.kind === 'error' || parsed.kind === 'info' ? parsed.kind : 'success';
    return { kind, message: parsed.message.slice(0, 300) };
  } catch {
    return undefined;
  }
}
