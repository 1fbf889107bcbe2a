import { Hono } from 'hono';
import { InvalidInput } from '../../platform/errors.ts';
import { type AppEnv, requestContext } from '../../platform/http/env.ts';
import { readForm } from '../../platform/http/forms.ts';
import { acceptInvitation, checkInvitation } from './invitations.ts';
import { startBrowserSession } from './routes.tsx';
import { InvitationForm } from './schema.ts';
import { InvitationPage } from './views/invitation.tsx';

/** The page an invitation mail links to; it is reached signed out, like the password reset page. */
export const invitationPages = new Hono<AppEnv>();

function linkHeaders(c: { header(name: string, value: string): void }): void {
  // The token is in the path: keep it out of caches and out of the Referer of anything the page links to.
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
}

invitationPages.get('/admin/invite/:token', async (c) => {
  const invitation = await checkInvitation(requestContext(c), c.req.param('token'));
  linkHeaders(c);
  return c.html(<InvitationPage action={c.req.path} tenantName={c.var.tenant.name} invitation={invitation} />);
});

invitationPages.post('/admin/invite/:token', async (c) => {
  const ctx = requestContext(c);
  const token = c.req.param('token');
  const invitation = await checkInvitation(ctx, token);
  linkHeaders(c);
  const form = await readForm(c, InvitationForm);
  const page = (values: Record<string, string>, errors: Record<string, string>) =>
    c.html(
      <InvitationPage
        action={c.req.path}
        tenantName={c.var.tenant.name}
        invitation={invitation}
        values={values}
        errors={errors}
      />,
      422,
    );
  if (!form.ok) return page(form.values, form.errors);
  try {
    const { sessionId } = await acceptInvitation(ctx, token, form.data);
    startBrowserSession(c, sessionId);
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    return page(form.values, error.fields);
  }
  return c.redirect('/admin', 303);
});
