import { Hono } from 'hono';
import { InvalidInput, Unauthorized } from '../../platform/errors.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { endOwnSession, listOwnSessions } from './own-sessions.ts';
import { readSessionCookie } from './routes.tsx';
import { ChangePasswordForm } from './schema.ts';
import { changePassword } from './service.ts';
import { AccountView, type AccountViewProps } from './views/account.tsx';
import { OwnSessionsView } from './views/sessions.tsx';

function renderAccount(c: AppContext, extra: Partial<AccountViewProps> = {}, status: 200 | 422 = 200) {
  const actor = c.var.actor;
  if (actor.kind !== 'user') throw new Unauthorized('sign in to see your account');
  return renderAdmin(
    c,
    'Your account',
    <AccountView name={actor.name} email={actor.email} csrfToken={csrfTokenOf(c)} {...extra} />,
    status,
  );
}

/** The signed-in person's own account: every route acts on the caller only, so no permission is needed. */
export const accountPages = new Hono<AppEnv>();

accountPages.get('/admin/account', (c) => renderAccount(c));

accountPages.post('/admin/account/password', async (c) => {
  const form = await readForm(c, ChangePasswordForm);
  if (!form.ok) return renderAccount(c, { errors: form.errors }, 422);
  const sessionId = readSessionCookie(c);
  if (!sessionId) throw new Unauthorized('your session has ended; sign in again');
  try {
    await changePassword(requestContext(c), sessionId, form.data);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return renderAccount(c, { errors: error.fields }, 422);
  }
  return redirectWithFlash(c, '/admin/account', 'Password changed. Your other sessions have ended.');
});

function currentSessionId(c: AppContext): string {
  const sessionId = readSessionCookie(c);
  if (!sessionId) throw new Unauthorized('your session has ended; sign in again');
  return sessionId;
}

accountPages.get('/admin/account/sessions', async (c) => {
  const sessions = await listOwnSessions(requestContext(c), currentSessionId(c));
  return renderAdmin(c, 'Your sessions', <OwnSessionsView sessions={sessions} csrfToken={csrfTokenOf(c)} />);
});

accountPages.post('/admin/account/sessions/:id/end', async (c) => {
  const ended = await endOwnSession(requestContext(c), currentSessionId(c), c.req.param('id'));
  return redirectWithFlash(c, '/admin/account/sessions', ended === 1 ? 'Session ended.' : `${ended} sessions ended.`);
});
