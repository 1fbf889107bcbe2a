import { createRoute, z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { Conflict, InvalidInput } from '../../platform/errors.ts';
import { BEARER, commonErrors, createApi, notFoundError, ProblemSchema, validationErrors } from '../../platform/http/api.ts';
import { type AppContext, type AppEnv, requestContext } from '../../platform/http/env.ts';
import { redirectWithFlash } from '../../platform/http/flash.ts';
import { readForm } from '../../platform/http/forms.ts';
import { csrfTokenOf, renderAdmin } from '../../platform/http/render.tsx';
import { invitePerson, resendInvitation } from '../identity/invitations.ts';
import { NewPerson } from '../identity/schema.ts';
import { createPerson } from '../identity/service.ts';
import { personMfaStatus } from '../mfa/service.ts';
import { PersonMfaPanel } from '../mfa/views/pages.tsx';
import { grantRequestInfo, listGrantRequests } from './approvals.ts';
import { grantRequestToApi } from './governance-routes.tsx';
import { GrantRequestJson } from './governance-schema.ts';
import { personDuties } from './offboarding.ts';
import { PERMISSIONS } from './permissions.ts';
import {
  CustomRoleChange,
  NewCustomRole,
  NewPersonBody,
  PermissionJson,
  type PersonDetail,
  PersonDetailJson,
  PersonJson,
  type PersonSummary,
  type RoleInfo,
  RoleJson,
  RoleRef,
  RoleSlugText,
  SlugParam,
  UserIdParam,
  UserRoleParams,
} from './schema.ts';
import {
  can,
  createCustomRole,
  deleteCustomRole,
  getPerson,
  getRole,
  grantableRoles,
  grantRole,
  listPeople,
  listRoles,
  revokeRole,
  routeRequires,
  updateCustomRole,
} from './service.ts';
import { PersonGovernance } from './views/governance.tsx';
import { PeopleView, PersonView } from './views/people.tsx';
import { NewRoleView, RolesView, RoleView } from './views/roles.tsx';

type FormState = { values?: Record<string, string>; errors?: Record<string, string> };

/** An input error or a duplicate from a service, as the form's field errors; anything else is thrown on. */
function formErrors(error: unknown, conflictField: string): Record<string, string> {
  if (error instanceof InvalidInput) return Object.keys(error.fields).length ? error.fields : { _: error.message };
  if (error instanceof Conflict) return { [conflictField]: error.message };
  throw error;
}

// ─── People ─────────────────────────────────────────────────────────────────────────────────────────────────

async function renderPeople(c: AppContext, form: FormState = {}) {
  const people = await listPeople(requestContext(c));
  const roles = can(c.var.actor, 'roles.read') ? await listRoles(requestContext(c)) : [];
  return renderAdmin(
    c,
    'People',
    <PeopleView
      people={people}
      roleNames={new Map(roles.map((r) => [r.slug, r.name]))}
      grantable={await grantableRoles(requestContext(c))}
      canManage={can(c.var.actor, 'users.manage')}
      csrfToken={csrfTokenOf(c)}
      {...form}
    />,
    form.errors ? 422 : 200,
  );
}

async function renderPerson(c: AppContext, id: string, form: FormState = {}) {
  const person = await getPerson(requestContext(c), id);
  const grantable = await grantableRoles(requestContext(c));
  const held = new Set(person.roles);
  const actor = c.var.actor;
  const revocable = new Set(grantable.map((r) => r.slug));
  const ctx = requestContext(c);
  const isSelf = actor.kind === 'user' && actor.id === person.id;
  const extra = (
    <PersonGovernance
      person={person}
      requests={await listGrantRequests(ctx, { userId: person.id })}
      duties={person.status === 'deactivated' ? await personDuties(ctx, person.id) : []}
      canManage={can(actor, 'users.manage')}
      isSelf={isSelf}
      csrfToken={csrfTokenOf(c)}
    />
  );
  return renderAdmin(
    c,
    person.name,
    <PersonView
      person={person}
      // A deactivated person gets no role until reactivated: the grant form is not offered.
      grantable={person.status === 'deactivated' ? [] : grantable.filter((r) => !held.has(r.slug))}
      revocable={revocable}
      canManage={can(actor, 'users.manage')}
      isSelf={isSelf}
      csrfToken={csrfTokenOf(c)}
      extra={
        <>
          {extra}
          <PersonMfaPanel
            status={await personMfaStatus(requestContext(c), person.id)}
            canReset={can(actor, 'users.manage') && !(actor.kind === 'user' && actor.id === person.id)}
            csrfToken={csrfTokenOf(c)}
          />
        </>
      }
      {...form}
    />,
    form.errors ? 422 : 200,
  );
}

export const accessPages = new Hono<AppEnv>();

accessPages.get('/admin/users', (c) => renderPeople(c));

accessPages.post('/admin/users', routeRequires('users.manage'), async (c) => {
  const form = await readForm(c, NewPerson);
  if (!form.ok) return renderPeople(c, form);
  try {
    const user = await invitePerson(requestContext(c), form.data, new URL(c.req.url).origin);
    return redirectWithFlash(
      c,
      `/admin/users/${user.id}`,
      `${user.name} added with the role ${form.data.role}; an invitation is on its way to ${user.email}.`,
    );
  } catch (error) {
    return renderPeople(c, { values: form.values, errors: formErrors(error, 'email') });
  }
});

accessPages.get('/admin/users/:id', (c) => renderPerson(c, UserIdParam.parse(c.req.param()).id));

accessPages.post('/admin/users/:id/roles', routeRequires('users.manage'), async (c) => {
  const { id } = UserIdParam.parse(c.req.param());
  // Only the role is read from the form: a tenant or person id typed into it has no field to land in.
  const form = await readForm(c, z.object({ role: RoleRef }));
  if (!form.ok) return renderPerson(c, id, form);
  const result = await grantRole(requestContext(c), id, form.data.role);
  const message =
    result.status === 'granted'
      ? `${result.email} now holds the role “${result.role.name}”.`
      : result.status === 'pending'
        ? `“${result.role.name}” is a privileged role: the grant waits for another administrator’s approval.`
        : `${result.email} already held the role “${result.role.name}”.`;
  return redirectWithFlash(c, `/admin/users/${id}`, message, result.status === 'granted' ? 'success' : 'info');
});

accessPages.post('/admin/users/:id/invitation', routeRequires('users.manage'), async (c) => {
  const { id } = UserIdParam.parse(c.req.param());
  try {
    await resendInvitation(requestContext(c), id, new URL(c.req.url).origin);
  } catch (error) {
    if (!(error instanceof Conflict)) throw error;
    return redirectWithFlash(c, `/admin/users/${id}`, error.message, 'error');
  }
  return redirectWithFlash(c, `/admin/users/${id}`, 'Invitation sent; the earlier link no longer works.');
});

accessPages.post('/admin/users/:id/roles/:role/revoke', routeRequires('users.manage'), async (c) => {
  const { id, role } = UserRoleParams.parse(c.req.param());
  const revoked = await revokeRole(requestContext(c), id, role);
  return redirectWithFlash(
    c,
    `/admin/users/${id}`,
    `Role “${revoked.name}” revoked; it no longer applies from the next request.`,
  );
});

// ─── Roles ──────────────────────────────────────────────────────────────────────────────────────────────────

/** The create form: an empty identifier field means "derive it from the name". */
const NewRoleForm = NewCustomRole.extend({
  slug: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined)
    .pipe(RoleSlugText.optional()),
});

function roleFormValues(values: Record<string, string>) {
  return {
    name: values.name,
    slug: values.slug,
    description: values.description,
    permissions: (values.permissions ?? '').split('\n').filter(Boolean),
  };
}

function renderNewRole(c: AppContext, form: FormState = {}) {
  return renderAdmin(
    c,
    'Create a role',
    <NewRoleView
      csrfToken={csrfTokenOf(c)}
      actor={c.var.actor}
      values={roleFormValues(form.values ?? {})}
      errors={form.errors}
    />,
    form.errors ? 422 : 200,
  );
}

async function renderRole(c: AppContext, slug: string, form: FormState = {}) {
  const role = await getRole(requestContext(c), slug);
  return renderAdmin(
    c,
    role.name,
    <RoleView
      role={role}
      canManage={can(c.var.actor, 'roles.manage')}
      csrfToken={csrfTokenOf(c)}
      actor={c.var.actor}
      {...form}
    />,
    form.errors ? 422 : 200,
  );
}

accessPages.get('/admin/roles', async (c) => {
  const roles = await listRoles(requestContext(c));
  return renderAdmin(c, 'Roles', <RolesView roles={roles} canManage={can(c.var.actor, 'roles.manage')} />);
});

// Registered before /admin/roles/:slug, which would otherwise take "new" for a slug.
accessPages.get('/admin/roles/new', routeRequires('roles.manage'), (c) => renderNewRole(c));

accessPages.post('/admin/roles', routeRequires('roles.manage'), async (c) => {
  const form = await readForm(c, NewRoleForm, { lists: ['permissions'] });
  if (!form.ok) return renderNewRole(c, form);
  try {
    const role = await createCustomRole(requestContext(c), form.data);
    return redirectWithFlash(c, `/admin/roles/${role.slug}`, `Role “${role.name}” created.`);
  } catch (error) {
    return renderNewRole(c, { values: form.values, errors: formErrors(error, 'name') });
  }
});

accessPages.get('/admin/roles/:slug', (c) => renderRole(c, SlugParam.parse(c.req.param()).slug));

accessPages.post('/admin/roles/:slug', routeRequires('roles.manage'), async (c) => {
  const { slug } = SlugParam.parse(c.req.param());
  const form = await readForm(c, CustomRoleChange, { lists: ['permissions'] });
  if (!form.ok) return renderRole(c, slug, form);
  try {
    const role = await updateCustomRole(requestContext(c), slug, form.data);
    return redirectWithFlash(c, `/admin/roles/${slug}`, `Role “${role.name}” saved.`);
  } catch (error) {
    return renderRole(c, slug, { values: form.values, errors: formErrors(error, 'name') });
  }
});

accessPages.post('/admin/roles/:slug/delete', routeRequires('roles.manage'), async (c) => {
  const { slug } = SlugParam.parse(c.req.param());
  await deleteCustomRole(requestContext(c), slug);
  return redirectWithFlash(c, '/admin/roles', 'Role deleted.');
});

// ─── API ────────────────────────────────────────────────────────────────────────────────────────────────────

function personToApi(p: PersonSummary) {
  return {
    id: p.id,
    email: p.email,
    name: p.name,
    status: p.status,
    invitationExpiresAt: p.invitationExpiresAt?.toISOString() ?? null,
    roles: p.roles,
    createdAt: p.createdAt.toISOString(),
  };
}

function personDetailToApi(p: PersonDetail) {
  return {
    ...personToApi(p),
    grants: p.grants.map((g) => ({
      role: g.role,
      roleName: g.roleName,
      grantedAt: g.grantedAt.toISOString(),
      grantedBy: g.grantedByLabel,
    })),
    permissions: p.permissions,
  };
}

function roleToApi(r: RoleInfo) {
  return {
    slug: r.slug,
    name: r.name,
    description: r.description,
    builtIn: r.builtIn,
    privileged: r.privileged,
    permissions: r.permissions,
    holders: r.holders,
  };
}

const conflict = (description: string) => ({
  409: { description, content: { 'application/problem+json': { schema: ProblemSchema } } },
});
const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});

export const accessApi = createApi();

accessApi.openapi(
  createRoute({
    method: 'get',
    path: '/users',
    tags: ['Access'],
    summary: 'List people',
    description: 'Needs `users.read`.',
    security: BEARER,
    responses: { 200: json('People with their roles', z.object({ items: z.array(PersonJson) })), ...commonErrors },
  }),
  async (c) => c.json({ items: (await listPeople(requestContext(c))).map(personToApi) }, 200),
);

accessApi.openapi(
  createRoute({
    method: 'post',
    path: '/users',
    tags: ['Access'],
    summary: 'Add a person with a role',
    description:
      'Needs `users.manage`, and every permission of the role. The person is mailed a single-use invitation link ' +
      '(valid seven days) with which they choose their password, unless `invite` is false. Unknown keys (a tenant id, ' +
      'say) are ignored: the person joins the caller’s tenant.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: body(NewPersonBody),
    responses: {
      201: json('The new person', PersonDetailJson),
      ...commonErrors,
      ...validationErrors,
      ...conflict('A person with this email exists'),
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { invite, ...person } = c.req.valid('json');
    const data = NewPerson.parse(person);
    const user = invite ? await invitePerson(ctx, data, new URL(c.req.url).origin) : await createPerson(ctx, data);
    return c.json(personDetailToApi(await getPerson(ctx, user.id)), 201);
  },
);

accessApi.openapi(
  createRoute({
    method: 'get',
    path: '/users/{id}',
    tags: ['Access'],
    summary: 'One person with their grants and effective permissions',
    description: 'Needs `users.read`.',
    security: BEARER,
    request: { params: UserIdParam },
    responses: { 200: json('The person', PersonDetailJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => c.json(personDetailToApi(await getPerson(requestContext(c), c.req.valid('param').id)), 200),
);

accessApi.openapi(
  createRoute({
    method: 'post',
    path: '/users/{id}/invitation',
    tags: ['Access'],
    summary: 'Send a person their invitation again',
    description:
      'Needs `users.manage`. Mails a new single-use link (valid seven days) with which the person chooses their ' +
      'password; the earlier link stops working. Refused (409) for people who have a password or are deactivated.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: UserIdParam },
    responses: {
      200: json('The invitation', z.object({ expiresAt: z.iso.datetime() }).openapi('InvitationSent')),
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('The person has a password already, or is deactivated'),
    },
  }),
  async (c) => {
    const expiresAt = await resendInvitation(requestContext(c), c.req.valid('param').id, new URL(c.req.url).origin);
    return c.json({ expiresAt: expiresAt.toISOString() }, 200);
  },
);

accessApi.openapi(
  createRoute({
    method: 'put',
    path: '/users/{id}/roles/{role}',
    tags: ['Access'],
    summary: 'Grant a role',
    description:
      'Needs `users.manage` and every permission of the role; nobody changes their own roles. Granting a role ' +
      'the person holds already changes nothing (`status: unchanged`). A privileged role asked by a person (a token ' +
      'they made) is not granted yet: 202 with the request waiting for a second administrator. A grant that would ' +
      'break a separation-of-duties rule is refused (409, naming the rule).',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: UserRoleParams },
    responses: {
      200: json(
        'The grant and the person as they are now',
        z.object({ status: z.enum(['granted', 'unchanged']), user: PersonDetailJson }),
      ),
      202: json(
        'The grant waits for approval',
        z.object({ status: z.literal('pending'), request: GrantRequestJson, user: PersonDetailJson }),
      ),
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('The grant would break a separation-of-duties rule, or the person is deactivated'),
    },
  }),
  async (c) => {
    const ctx = requestContext(c);
    const { id, role } = c.req.valid('param');
    const result = await grantRole(ctx, id, role);
    const user = personDetailToApi(await getPerson(ctx, id));
    if (result.status === 'pending' && result.request) {
      const request = grantRequestToApi(grantRequestInfo(result.request, result.email, ctx.clock.now()));
      return c.json({ status: 'pending' as const, request, user }, 202);
    }
    return c.json({ status: result.status === 'granted' ? ('granted' as const) : ('unchanged' as const), user }, 200);
  },
);

accessApi.openapi(
  createRoute({
    method: 'delete',
    path: '/users/{id}/roles/{role}',
    tags: ['Access'],
    summary: 'Revoke a role',
    description:
      'Needs `users.manage` and every permission of the role; nobody changes their own roles, and the last owner keeps the owner role.',
    middleware: [routeRequires('users.manage')],
    security: BEARER,
    request: { params: UserRoleParams },
    responses: {
      204: { description: 'Revoked' },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('The last owner cannot lose the owner role'),
    },
  }),
  async (c) => {
    const { id, role } = c.req.valid('param');
    await revokeRole(requestContext(c), id, role);
    return c.body(null, 204);
  },
);

accessApi.openapi(
  createRoute({
    method: 'get',
    path: '/permissions',
    tags: ['Access'],
    summary: 'The permission catalog',
    description: 'Every permission a role or an API token can hold. Needs `roles.read`.',
    middleware: [routeRequires('roles.read')],
    security: BEARER,
    responses: { 200: json('Permissions', z.object({ items: z.array(PermissionJson) })), ...commonErrors },
  }),
  (c) =>
    c.json(
      {
        items: PERMISSIONS.map((p) => ({
          slug: p.slug,
          capability: p.capability,
          description: p.description,
          effect: p.effect,
          privileged: 'privileged' in p && p.privileged === true,
        })),
      },
      200,
    ),
);

accessApi.openapi(
  createRoute({
    method: 'get',
    path: '/roles',
    tags: ['Access'],
    summary: 'List roles',
    description: 'Built-in roles first, then the tenant’s custom roles. Needs `roles.read`.',
    security: BEARER,
    responses: { 200: json('Roles', z.object({ items: z.array(RoleJson) })), ...commonErrors },
  }),
  async (c) => c.json({ items: (await listRoles(requestContext(c))).map(roleToApi) }, 200),
);

accessApi.openapi(
  createRoute({
    method: 'post',
    path: '/roles',
    tags: ['Access'],
    summary: 'Create a custom role',
    description: 'Needs `roles.manage`; every permission given must be held by the caller.',
    middleware: [routeRequires('roles.manage')],
    security: BEARER,
    request: body(NewCustomRole),
    responses: { 201: json('The new role', RoleJson), ...commonErrors, ...validationErrors },
  }),
  async (c) => c.json(roleToApi(await createCustomRole(requestContext(c), c.req.valid('json'))), 201),
);

accessApi.openapi(
  createRoute({
    method: 'get',
    path: '/roles/{slug}',
    tags: ['Access'],
    summary: 'One role',
    description: 'Needs `roles.read`.',
    security: BEARER,
    request: { params: SlugParam },
    responses: { 200: json('The role', RoleJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => c.json(roleToApi(await getRole(requestContext(c), c.req.valid('param').slug)), 200),
);

accessApi.openapi(
  createRoute({
    method: 'put',
    path: '/roles/{slug}',
    tags: ['Access'],
    summary: 'Change a custom role',
    description:
      'Needs `roles.manage`. Permissions added must be held by the caller. Built-in roles cannot be changed (403). ' +
      'Holders gain or lose permissions from their next request.',
    middleware: [routeRequires('roles.manage')],
    security: BEARER,
    request: { params: SlugParam, ...body(CustomRoleChange) },
    responses: { 200: json('The role', RoleJson), ...commonErrors, ...validationErrors, ...notFoundError },
  }),
  async (c) => c.json(roleToApi(await updateCustomRole(requestContext(c), c.req.valid('param').slug, c.req.valid('json'))), 200),
);

accessApi.openapi(
  createRoute({
    method: 'delete',
    path: '/roles/{slug}',
    tags: ['Access'],
    summary: 'Delete a custom role',
    description: 'Needs `roles.manage`. A role somebody holds is refused (409): revoke it first. Built-in roles: 403.',
    middleware: [routeRequires('roles.manage')],
    security: BEARER,
    request: { params: SlugParam },
    responses: {
      204: { description: 'Deleted' },
      ...commonErrors,
      ...validationErrors,
      ...notFoundError,
      ...conflict('Somebody holds the role'),
    },
  }),
  async (c) => {
    await deleteCustomRole(requestContext(c), c.req.valid('param').slug);
    return c.body(null, 204);
  },
);
