import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { waitFor } from '../../../test/wait.ts';
import { type AuditEventRow, searchEvents } from '../../platform/audit/store.ts';
import { findOutboxRow } from '../../platform/mail/store.ts';
import { insertBackup } from '../backups/store.ts';
import { composePages } from '../documents/compose.ts';
import { createCustomRole } from './service.ts';

/**
 * Walks every back-office page and API route of the app as an auditor (reads everything, changes nothing) and
 * as an employee (self-service only). The table below must name every route the app serves under /admin and
 * /api/v1: a capability that adds a route fails here until it says what readers may do with it.
 */

interface Ids {
  userId: string;
  role: string;
  mailId: string;
  alertId: string;
  destinationId: string;
  tokenId: string;
  backupId: string;
  reviewId: string;
  reviewItemId: string;
  documentId: string;
}

/** A default separation-of-duties rule, and a grant request id nobody made (refusals come before lookups). */
const SOD_RULE = 'user-administration-vs-audit';
const NO_REQUEST = '00000000-0000-4000-8000-0000000000aa';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RouteCase {
  /** `METHOD /path` exactly as the router has it. */
  route: string;
  /** The concrete path to request. */
  path: (ids: Ids) => string;
  /** What the auditor gets: reads 200 by default, changes 403. */
  auditor?: number;
  /** What an employee gets: 403 by default. */
  employee?: number;
}

const ROUTES: RouteCase[] = [
  // Back office
  { route: 'GET /admin', path: () => '/admin', employee: 200 },
  { route: 'GET /admin/outbox', path: () => '/admin/outbox' },
  { route: 'GET /admin/outbox/:id', path: (i) => `/admin/outbox/${i.mailId}` },
  { route: 'GET /admin/outbox/:id/raw', path: (i) => `/admin/outbox/${i.mailId}/raw` },
  { route: 'GET /admin/api-tokens', path: () => '/admin/api-tokens' },
  { route: 'POST /admin/api-tokens', path: () => '/admin/api-tokens' },
  { route: 'POST /admin/api-tokens/:id/revoke', path: (i) => `/admin/api-tokens/${i.tokenId}/revoke` },
  // One's own account: everyone may see it; an empty change-password form is refused as invalid.
  { route: 'GET /admin/account', path: () => '/admin/account', auditor: 200, employee: 200 },
  { route: 'POST /admin/account/password', path: () => '/admin/account/password', auditor: 422, employee: 422 },
  { route: 'GET /admin/account/sessions', path: () => '/admin/account/sessions', auditor: 200, employee: 200 },
  // Ending an unknown session of one's own changes nothing.
  { route: 'POST /admin/account/sessions/:id/end', path: () => '/admin/account/sessions/nope/end', auditor: 404, employee: 404 },
  // Two-step sign-in on one's own account: pages open, empty forms are invalid, an unknown passkey is not found.
  // Asking for passkey options stores a single-use challenge and records nothing.
  { route: 'GET /admin/account/mfa', path: () => '/admin/account/mfa', auditor: 200, employee: 200 },
  { route: 'GET /admin/account/mfa/totp', path: () => '/admin/account/mfa/totp', auditor: 200, employee: 200 },
  { route: 'POST /admin/account/mfa/totp', path: () => '/admin/account/mfa/totp', auditor: 422, employee: 422 },
  { route: 'POST /admin/account/mfa/totp/remove', path: () => '/admin/account/mfa/totp/remove', auditor: 422, employee: 422 },
  {
    route: 'POST /admin/account/mfa/recovery-codes',
    path: () => '/admin/account/mfa/recovery-codes',
    auditor: 422,
    employee: 422,
  },
  {
    route: 'POST /admin/account/mfa/passkeys/options',
    path: () => '/admin/account/mfa/passkeys/options',
    auditor: 200,
    employee: 200,
  },
  { route: 'POST /admin/account/mfa/passkeys', path: () => '/admin/account/mfa/passkeys', auditor: 422, employee: 422 },
  {
    route: 'POST /admin/account/mfa/passkeys/:id/remove',
    path: () => '/admin/account/mfa/passkeys/00000000-0000-4000-8000-000000000000/remove',
    auditor: 404,
    employee: 404,
  },
  // The second-factor challenge: nothing to prove for people without a factor (sent on), empty answers invalid.
  { route: 'GET /admin/mfa/challenge', path: () => '/admin/mfa/challenge', auditor: 303, employee: 303 },
  { route: 'POST /admin/mfa/challenge', path: () => '/admin/mfa/challenge', auditor: 422, employee: 422 },
  {
    route: 'POST /admin/mfa/challenge/passkey/options',
    path: () => '/admin/mfa/challenge/passkey/options',
    auditor: 200,
    employee: 200,
  },
  { route: 'POST /admin/mfa/challenge/passkey', path: () => '/admin/mfa/challenge/passkey', auditor: 422, employee: 422 },
  { route: 'GET /admin/mfa/policy', path: () => '/admin/mfa/policy' },
  { route: 'POST /admin/mfa/policy', path: () => '/admin/mfa/policy' },
  { route: 'POST /admin/users/:id/mfa/reset', path: (i) => `/admin/users/${i.userId}/mfa/reset` },
  { route: 'GET /admin/users', path: () => '/admin/users' },
  { route: 'POST /admin/users', path: () => '/admin/users' },
  { route: 'GET /admin/users/:id', path: (i) => `/admin/users/${i.userId}` },
  { route: 'POST /admin/users/:id/roles', path: (i) => `/admin/users/${i.userId}/roles` },
  { route: 'POST /admin/users/:id/invitation', path: (i) => `/admin/users/${i.userId}/invitation` },
  { route: 'POST /admin/users/:id/roles/:role/revoke', path: (i) => `/admin/users/${i.userId}/roles/owner/revoke` },
  { route: 'POST /admin/users/:id/deactivate', path: (i) => `/admin/users/${i.userId}/deactivate` },
  { route: 'POST /admin/users/:id/reactivate', path: (i) => `/admin/users/${i.userId}/reactivate` },
  { route: 'GET /admin/grant-requests', path: () => '/admin/grant-requests' },
  { route: 'POST /admin/grant-requests/:id/approve', path: () => `/admin/grant-requests/${NO_REQUEST}/approve` },
  { route: 'POST /admin/grant-requests/:id/deny', path: () => `/admin/grant-requests/${NO_REQUEST}/deny` },
  { route: 'GET /admin/separation-of-duties', path: () => '/admin/separation-of-duties' },
  { route: 'GET /admin/separation-of-duties/new', path: () => '/admin/separation-of-duties/new', auditor: 403 },
  { route: 'GET /admin/separation-of-duties/violations', path: () => '/admin/separation-of-duties/violations' },
  { route: 'POST /admin/separation-of-duties', path: () => '/admin/separation-of-duties' },
  { route: 'GET /admin/separation-of-duties/:id', path: () => `/admin/separation-of-duties/${SOD_RULE}` },
  { route: 'POST /admin/separation-of-duties/:id', path: () => `/admin/separation-of-duties/${SOD_RULE}` },
  {
    route: 'POST /admin/separation-of-duties/:id/:state{enable|disable}',
    path: () => `/admin/separation-of-duties/${SOD_RULE}/disable`,
  },
  { route: 'POST /admin/separation-of-duties/:id/delete', path: () => `/admin/separation-of-duties/${SOD_RULE}/delete` },
  { route: 'GET /admin/roles', path: () => '/admin/roles' },
  // The form that creates a role: a page only those who may create one can open.
  { route: 'GET /admin/roles/new', path: () => '/admin/roles/new', auditor: 403 },
  { route: 'POST /admin/roles', path: () => '/admin/roles' },
  { route: 'GET /admin/roles/:slug', path: (i) => `/admin/roles/${i.role}` },
  { route: 'POST /admin/roles/:slug', path: (i) => `/admin/roles/${i.role}` },
  { route: 'POST /admin/roles/:slug/delete', path: (i) => `/admin/roles/${i.role}/delete` },
  { route: 'GET /admin/audit', path: () => '/admin/audit' },
  { route: 'GET /admin/audit/export.csv', path: () => '/admin/audit/export.csv' },
  { route: 'GET /admin/audit/export.jsonl', path: () => '/admin/audit/export.jsonl' },
  { route: 'POST /admin/audit/verify', path: () => '/admin/audit/verify', auditor: 303 },
  { route: 'GET /admin/audit/:seq{[0-9]+}', path: () => '/admin/audit/1' },
  { route: 'GET /admin/alerts', path: () => '/admin/alerts' },
  { route: 'GET /admin/alerts/settings', path: () => '/admin/alerts/settings' },
  { route: 'POST /admin/alerts/settings', path: () => '/admin/alerts/settings' },
  { route: 'GET /admin/alerts/:id', path: (i) => `/admin/alerts/${i.alertId}` },
  { route: 'POST /admin/alerts/:id/acknowledge', path: (i) => `/admin/alerts/${i.alertId}/acknowledge` },
  { route: 'POST /admin/alerts/:id/close', path: (i) => `/admin/alerts/${i.alertId}/close` },
  { route: 'GET /admin/siem', path: () => '/admin/siem' },
  { route: 'POST /admin/siem', path: () => '/admin/siem' },
  { route: 'POST /admin/siem/:id/:action{enable|disable}', path: (i) => `/admin/siem/${i.destinationId}/disable` },
  { route: 'POST /admin/siem/:id/delete', path: (i) => `/admin/siem/${i.destinationId}/delete` },
  { route: 'POST /admin/siem/:id/test', path: (i) => `/admin/siem/${i.destinationId}/test` },
  { route: 'GET /admin/keys', path: () => '/admin/keys' },
  { route: 'POST /admin/keys/rotate', path: () => '/admin/keys/rotate' },
  { route: 'GET /admin/backups', path: () => '/admin/backups' },
  { route: 'POST /admin/backups/run', path: () => '/admin/backups/run' },
  // Re-checking backups' checksums changes nothing anyone relies on: the auditor may.
  { route: 'POST /admin/backups/verify', path: () => '/admin/backups/verify', auditor: 303 },
  { route: 'POST /admin/backups/settings', path: () => '/admin/backups/settings' },
  { route: 'GET /admin/retention', path: () => '/admin/retention' },
  { route: 'POST /admin/retention/runs', path: () => '/admin/retention/runs' },
  // The form that changes a rule: a page only those who may change it can open.
  { route: 'GET /admin/retention/rules/:category', path: () => '/admin/retention/rules/sessions', auditor: 403 },
  { route: 'POST /admin/retention/rules/:category', path: () => '/admin/retention/rules/sessions' },
  { route: 'GET /admin/ip-allowlists', path: () => '/admin/ip-allowlists' },
  { route: 'POST /admin/ip-allowlists/:list', path: () => '/admin/ip-allowlists/admin' },
  { route: 'GET /admin/settings/sso', path: () => '/admin/settings/sso' },
  { route: 'POST /admin/settings/sso', path: () => '/admin/settings/sso' },
  { route: 'POST /admin/settings/sso/check', path: () => '/admin/settings/sso/check' },
  { route: 'GET /admin/access-reviews', path: () => '/admin/access-reviews' },
  { route: 'POST /admin/access-reviews', path: () => '/admin/access-reviews' },
  { route: 'POST /admin/access-reviews/settings', path: () => '/admin/access-reviews/settings' },
  // Everyone's own review duties: an employee has none, but may look.
  { route: 'GET /admin/access-reviews/mine', path: () => '/admin/access-reviews/mine', employee: 200 },
  { route: 'GET /admin/access-reviews/:id', path: (i) => `/admin/access-reviews/${i.reviewId}` },
  {
    route: 'POST /admin/access-reviews/:id/items/:itemId/decide',
    path: (i) => `/admin/access-reviews/${i.reviewId}/items/${i.reviewItemId}/decide`,
  },
  {
    route: 'POST /admin/access-reviews/:id/items/:itemId/reassign',
    path: (i) => `/admin/access-reviews/${i.reviewId}/items/${i.reviewItemId}/reassign`,
  },
  { route: 'POST /admin/access-reviews/:id/close', path: (i) => `/admin/access-reviews/${i.reviewId}/close` },
  { route: 'GET /admin/access-reviews/:id/export.csv', path: (i) => `/admin/access-reviews/${i.reviewId}/export.csv` },
  { route: 'GET /admin/access-reviews/:id/evidence', path: (i) => `/admin/access-reviews/${i.reviewId}/evidence` },
  // API
  // Trust Center content (versions of a section never published are 404 to everyone).
  { route: 'GET /admin/trust-center', path: () => '/admin/trust-center' },
  { route: 'GET /admin/trust-center/policies/new', path: () => '/admin/trust-center/policies/new', auditor: 403 },
  { route: 'POST /admin/trust-center/policies', path: () => '/admin/trust-center/policies' },
  { route: 'GET /admin/trust-center/:section', path: () => '/admin/trust-center/faq' },
  { route: 'POST /admin/trust-center/:section', path: () => '/admin/trust-center/faq' },
  { route: 'GET /admin/trust-center/:section/preview', path: () => '/admin/trust-center/faq/preview' },
  { route: 'POST /admin/trust-center/:section/review', path: () => '/admin/trust-center/faq/review' },
  { route: 'POST /admin/trust-center/:section/approve', path: () => '/admin/trust-center/faq/approve' },
  { route: 'POST /admin/trust-center/:section/publish', path: () => '/admin/trust-center/faq/publish' },
  { route: 'POST /admin/trust-center/:section/schedule', path: () => '/admin/trust-center/faq/schedule' },
  {
    route: 'GET /admin/trust-center/:section/versions/:version{[0-9]+}',
    path: () => '/admin/trust-center/faq/versions/1',
    auditor: 404,
  },
  {
    route: 'POST /admin/trust-center/:section/versions/:version{[0-9]+}/rollback',
    path: () => '/admin/trust-center/faq/versions/1/rollback',
  },
  // Subscriptions and contact messages (unknown ids: nothing to read, and refusals come before lookups).
  { route: 'GET /admin/subscriptions', path: () => '/admin/subscriptions' },
  { route: 'POST /admin/subscriptions/webhooks', path: () => '/admin/subscriptions/webhooks' },
  { route: 'POST /admin/subscriptions/webhooks/:id/delete', path: () => `/admin/subscriptions/webhooks/${NO_REQUEST}/delete` },
  { route: 'GET /admin/contact', path: () => '/admin/contact' },
  { route: 'GET /admin/contact/:id', path: () => `/admin/contact/${NO_REQUEST}`, auditor: 404 },
  { route: 'POST /admin/contact/:id/handled', path: () => `/admin/contact/${NO_REQUEST}/handled` },
  { route: 'GET /admin/documents', path: () => '/admin/documents' },
  { route: 'GET /admin/documents/new', path: () => '/admin/documents/new', auditor: 403 },
  { route: 'POST /admin/documents', path: () => '/admin/documents' },
  { route: 'GET /admin/documents/:id', path: (i) => `/admin/documents/${i.documentId}` },
  { route: 'POST /admin/documents/:id', path: (i) => `/admin/documents/${i.documentId}` },
  { route: 'POST /admin/documents/:id/versions', path: (i) => `/admin/documents/${i.documentId}/versions` },
  // Reading a file is a recorded download (document.downloaded), which a reader may do.
  {
    route: 'GET /admin/documents/:id/versions/:version{[0-9]+}/file',
    path: (i) => `/admin/documents/${i.documentId}/versions/1/file`,
  },
  // Document requests, grants, the NDA and the request rules (unknown ids: refusals come before lookups).
  { route: 'GET /admin/documents/requests', path: () => '/admin/documents/requests' },
  { route: 'GET /admin/documents/requests/:id', path: () => `/admin/documents/requests/${NO_REQUEST}`, auditor: 404 },
  { route: 'POST /admin/documents/requests/:id/approve', path: () => `/admin/documents/requests/${NO_REQUEST}/approve` },
  { route: 'POST /admin/documents/requests/:id/deny', path: () => `/admin/documents/requests/${NO_REQUEST}/deny` },
  { route: 'GET /admin/documents/grants', path: () => '/admin/documents/grants' },
  { route: 'POST /admin/documents/grants/:id/revoke', path: () => `/admin/documents/grants/${NO_REQUEST}/revoke` },
  { route: 'GET /admin/documents/nda', path: () => '/admin/documents/nda' },
  { route: 'POST /admin/documents/nda', path: () => '/admin/documents/nda' },
  { route: 'GET /admin/documents/access', path: () => '/admin/documents/access' },
  { route: 'POST /admin/documents/access', path: () => '/admin/documents/access' },
  // The leak lookup is a read (an uploaded copy is only looked at): the auditor may trace.
  { route: 'GET /admin/documents/trace', path: () => '/admin/documents/trace' },
  { route: 'POST /admin/documents/trace', path: () => '/admin/documents/trace', auditor: 422 },
  { route: 'GET /admin/documents/analytics', path: () => '/admin/documents/analytics' },
  { route: 'GET /admin/documents/analytics/export.csv', path: () => '/admin/documents/analytics/export.csv' },
  { route: 'GET /admin/customers', path: () => '/admin/customers' },
  { route: 'POST /admin/customers', path: () => '/admin/customers' },
  { route: 'GET /admin/customers/:id', path: () => `/admin/customers/${NO_REQUEST}`, auditor: 404 },
  { route: 'POST /admin/customers/:id', path: () => `/admin/customers/${NO_REQUEST}` },
  { route: 'POST /admin/customers/:id/delete', path: () => `/admin/customers/${NO_REQUEST}/delete` },
  { route: 'GET /admin/trust-center/branding', path: () => '/admin/trust-center/branding' },
  { route: 'POST /admin/trust-center/branding', path: () => '/admin/trust-center/branding' },
  { route: 'POST /admin/trust-center/domains', path: () => '/admin/trust-center/domains' },
  {
    route: 'POST /admin/trust-center/domains/:hostname/verify',
    path: () => '/admin/trust-center/domains/trust.example.com/verify',
  },
  {
    route: 'POST /admin/trust-center/domains/:hostname/remove',
    path: () => '/admin/trust-center/domains/trust.example.com/remove',
  },
  { route: 'GET /admin/trust-center/files/:id', path: () => `/admin/trust-center/files/${NO_REQUEST}`, auditor: 404 },
  { route: 'GET /api/v1/me', path: () => '/api/v1/me', employee: 200 },
  { route: 'GET /api/v1/api-tokens', path: () => '/api/v1/api-tokens' },
  { route: 'POST /api/v1/api-tokens', path: () => '/api/v1/api-tokens' },
  { route: 'DELETE /api/v1/api-tokens/:id', path: (i) => `/api/v1/api-tokens/${i.tokenId}` },
  { route: 'GET /api/v1/users', path: () => '/api/v1/users' },
  { route: 'POST /api/v1/users', path: () => '/api/v1/users' },
  { route: 'GET /api/v1/users/:id', path: (i) => `/api/v1/users/${i.userId}` },
  { route: 'POST /api/v1/users/:id/invitation', path: (i) => `/api/v1/users/${i.userId}/invitation` },
  { route: 'PUT /api/v1/users/:id/roles/:role', path: (i) => `/api/v1/users/${i.userId}/roles/employee` },
  { route: 'DELETE /api/v1/users/:id/roles/:role', path: (i) => `/api/v1/users/${i.userId}/roles/owner` },
  { route: 'POST /api/v1/users/:id/deactivate', path: (i) => `/api/v1/users/${i.userId}/deactivate` },
  { route: 'POST /api/v1/users/:id/reactivate', path: (i) => `/api/v1/users/${i.userId}/reactivate` },
  { route: 'GET /api/v1/users/:id/duties', path: (i) => `/api/v1/users/${i.userId}/duties` },
  { route: 'GET /api/v1/grant-requests', path: () => '/api/v1/grant-requests' },
  { route: 'POST /api/v1/grant-requests/:id/approve', path: () => `/api/v1/grant-requests/${NO_REQUEST}/approve` },
  { route: 'POST /api/v1/grant-requests/:id/deny', path: () => `/api/v1/grant-requests/${NO_REQUEST}/deny` },
  { route: 'GET /api/v1/sod/rules', path: () => '/api/v1/sod/rules' },
  { route: 'POST /api/v1/sod/rules', path: () => '/api/v1/sod/rules' },
  { route: 'GET /api/v1/sod/violations', path: () => '/api/v1/sod/violations' },
  { route: 'GET /api/v1/sod/rules/:id', path: () => `/api/v1/sod/rules/${SOD_RULE}` },
  { route: 'PUT /api/v1/sod/rules/:id', path: () => `/api/v1/sod/rules/${SOD_RULE}` },
  { route: 'PUT /api/v1/sod/rules/:id/state', path: () => `/api/v1/sod/rules/${SOD_RULE}/state` },
  { route: 'DELETE /api/v1/sod/rules/:id', path: () => `/api/v1/sod/rules/${SOD_RULE}` },
  { route: 'GET /api/v1/users/:id/mfa', path: (i) => `/api/v1/users/${i.userId}/mfa` },
  { route: 'DELETE /api/v1/users/:id/mfa', path: (i) => `/api/v1/users/${i.userId}/mfa` },
  { route: 'GET /api/v1/mfa/policy', path: () => '/api/v1/mfa/policy' },
  { route: 'PUT /api/v1/mfa/policy', path: () => '/api/v1/mfa/policy' },
  { route: 'GET /api/v1/permissions', path: () => '/api/v1/permissions' },
  { route: 'GET /api/v1/roles', path: () => '/api/v1/roles' },
  { route: 'POST /api/v1/roles', path: () => '/api/v1/roles' },
  { route: 'GET /api/v1/roles/:slug', path: (i) => `/api/v1/roles/${i.role}` },
  { route: 'PUT /api/v1/roles/:slug', path: (i) => `/api/v1/roles/${i.role}` },
  { route: 'DELETE /api/v1/roles/:slug', path: (i) => `/api/v1/roles/${i.role}` },
  { route: 'GET /api/v1/outbox', path: () => '/api/v1/outbox' },
  { route: 'GET /api/v1/outbox/:id', path: (i) => `/api/v1/outbox/${i.mailId}` },
  { route: 'GET /api/v1/audit/events', path: () => '/api/v1/audit/events' },
  { route: 'GET /api/v1/audit/events/:seq', path: () => '/api/v1/audit/events/1' },
  { route: 'GET /api/v1/audit/export', path: () => '/api/v1/audit/export' },
  { route: 'POST /api/v1/audit/verify', path: () => '/api/v1/audit/verify', auditor: 200 },
  { route: 'GET /api/v1/alerts', path: () => '/api/v1/alerts' },
  { route: 'GET /api/v1/alerts/:id', path: (i) => `/api/v1/alerts/${i.alertId}` },
  { route: 'POST /api/v1/alerts/:id/acknowledge', path: (i) => `/api/v1/alerts/${i.alertId}/acknowledge` },
  { route: 'POST /api/v1/alerts/:id/close', path: (i) => `/api/v1/alerts/${i.alertId}/close` },
  { route: 'GET /api/v1/siem/destinations', path: () => '/api/v1/siem/destinations' },
  { route: 'POST /api/v1/siem/destinations', path: () => '/api/v1/siem/destinations' },
  { route: 'DELETE /api/v1/siem/destinations/:id', path: (i) => `/api/v1/siem/destinations/${i.destinationId}` },
  { route: 'POST /api/v1/siem/destinations/:id/test', path: (i) => `/api/v1/siem/destinations/${i.destinationId}/test` },
  { route: 'GET /api/v1/keys', path: () => '/api/v1/keys' },
  { route: 'POST /api/v1/keys/rotate', path: () => '/api/v1/keys/rotate' },
  { route: 'GET /api/v1/backups/settings', path: () => '/api/v1/backups/settings' },
  { route: 'PUT /api/v1/backups/settings', path: () => '/api/v1/backups/settings' },
  { route: 'GET /api/v1/backups', path: () => '/api/v1/backups' },
  { route: 'POST /api/v1/backups', path: () => '/api/v1/backups' },
  { route: 'POST /api/v1/backups/verify', path: () => '/api/v1/backups/verify', auditor: 202 },
  { route: 'GET /api/v1/backups/:id', path: (i) => `/api/v1/backups/${i.backupId}` },
  { route: 'GET /api/v1/retention/rules', path: () => '/api/v1/retention/rules' },
  { route: 'PUT /api/v1/retention/rules/:category', path: () => '/api/v1/retention/rules/sessions' },
  { route: 'GET /api/v1/retention/runs', path: () => '/api/v1/retention/runs' },
  { route: 'POST /api/v1/retention/runs', path: () => '/api/v1/retention/runs' },
  { route: 'GET /api/v1/ip-allowlists', path: () => '/api/v1/ip-allowlists' },
  { route: 'PUT /api/v1/ip-allowlists/:list', path: () => '/api/v1/ip-allowlists/api' },
  { route: 'GET /api/v1/sso/settings', path: () => '/api/v1/sso/settings' },
  { route: 'PUT /api/v1/sso/settings', path: () => '/api/v1/sso/settings' },
  { route: 'POST /api/v1/sso/settings/check', path: () => '/api/v1/sso/settings/check' },
  { route: 'GET /api/v1/access-reviews', path: () => '/api/v1/access-reviews' },
  { route: 'POST /api/v1/access-reviews', path: () => '/api/v1/access-reviews' },
  { route: 'GET /api/v1/access-reviews/settings', path: () => '/api/v1/access-reviews/settings' },
  { route: 'PUT /api/v1/access-reviews/settings', path: () => '/api/v1/access-reviews/settings' },
  { route: 'GET /api/v1/access-reviews/:id', path: (i) => `/api/v1/access-reviews/${i.reviewId}` },
  {
    route: 'POST /api/v1/access-reviews/:id/items/:itemId/decision',
    path: (i) => `/api/v1/access-reviews/${i.reviewId}/items/${i.reviewItemId}/decision`,
  },
  {
    route: 'POST /api/v1/access-reviews/:id/items/:itemId/reassign',
    path: (i) => `/api/v1/access-reviews/${i.reviewId}/items/${i.reviewItemId}/reassign`,
  },
  { route: 'POST /api/v1/access-reviews/:id/close', path: (i) => `/api/v1/access-reviews/${i.reviewId}/close` },
  { route: 'GET /api/v1/access-reviews/:id/export', path: (i) => `/api/v1/access-reviews/${i.reviewId}/export` },
  { route: 'GET /api/v1/trust-center/sections', path: () => '/api/v1/trust-center/sections' },
  { route: 'GET /api/v1/trust-center/sections/:section/draft', path: () => '/api/v1/trust-center/sections/faq/draft' },
  { route: 'PUT /api/v1/trust-center/sections/:section/draft', path: () => '/api/v1/trust-center/sections/faq/draft' },
  { route: 'POST /api/v1/trust-center/sections/:section/review', path: () => '/api/v1/trust-center/sections/faq/review' },
  { route: 'POST /api/v1/trust-center/sections/:section/approve', path: () => '/api/v1/trust-center/sections/faq/approve' },
  { route: 'POST /api/v1/trust-center/sections/:section/publish', path: () => '/api/v1/trust-center/sections/faq/publish' },
  { route: 'PUT /api/v1/trust-center/sections/:section/schedule', path: () => '/api/v1/trust-center/sections/faq/schedule' },
  { route: 'GET /api/v1/trust-center/sections/:section/versions', path: () => '/api/v1/trust-center/sections/faq/versions' },
  {
    route: 'GET /api/v1/trust-center/sections/:section/versions/:version',
    path: () => '/api/v1/trust-center/sections/faq/versions/1',
    auditor: 404,
  },
  {
    route: 'POST /api/v1/trust-center/sections/:section/versions/:version/rollback',
    path: () => '/api/v1/trust-center/sections/faq/versions/1/rollback',
  },
  { route: 'GET /api/v1/subscriptions', path: () => '/api/v1/subscriptions' },
  { route: 'GET /api/v1/subscriptions/webhooks', path: () => '/api/v1/subscriptions/webhooks' },
  { route: 'POST /api/v1/subscriptions/webhooks', path: () => '/api/v1/subscriptions/webhooks' },
  { route: 'DELETE /api/v1/subscriptions/webhooks/:id', path: () => `/api/v1/subscriptions/webhooks/${NO_REQUEST}` },
  { route: 'GET /api/v1/contact-messages', path: () => '/api/v1/contact-messages' },
  { route: 'GET /api/v1/contact-messages/:id', path: () => `/api/v1/contact-messages/${NO_REQUEST}`, auditor: 404 },
  { route: 'GET /api/v1/customers', path: () => '/api/v1/customers' },
  { route: 'POST /api/v1/customers', path: () => '/api/v1/customers' },
  { route: 'GET /api/v1/customers/:id', path: () => `/api/v1/customers/${NO_REQUEST}`, auditor: 404 },
  { route: 'PUT /api/v1/customers/:id', path: () => `/api/v1/customers/${NO_REQUEST}` },
  { route: 'DELETE /api/v1/customers/:id', path: () => `/api/v1/customers/${NO_REQUEST}` },
  { route: 'GET /api/v1/document-requests', path: () => '/api/v1/document-requests' },
  { route: 'GET /api/v1/document-requests/:id', path: () => `/api/v1/document-requests/${NO_REQUEST}`, auditor: 404 },
  { route: 'POST /api/v1/document-requests/:id/approve', path: () => `/api/v1/document-requests/${NO_REQUEST}/approve` },
  { route: 'POST /api/v1/document-requests/:id/deny', path: () => `/api/v1/document-requests/${NO_REQUEST}/deny` },
  { route: 'GET /api/v1/document-grants', path: () => '/api/v1/document-grants' },
  { route: 'POST /api/v1/document-grants/:id/revoke', path: () => `/api/v1/document-grants/${NO_REQUEST}/revoke` },
  { route: 'GET /api/v1/document-nda', path: () => '/api/v1/document-nda' },
  { route: 'PUT /api/v1/document-nda', path: () => '/api/v1/document-nda' },
  { route: 'GET /api/v1/document-access-rules', path: () => '/api/v1/document-access-rules' },
  { route: 'PUT /api/v1/document-access-rules', path: () => '/api/v1/document-access-rules' },
  { route: 'GET /api/v1/document-grants/:id/trace', path: () => `/api/v1/document-grants/${NO_REQUEST}/trace`, auditor: 404 },
  { route: 'POST /api/v1/document-traces', path: () => '/api/v1/document-traces', auditor: 415 },
  { route: 'GET /api/v1/document-analytics', path: () => '/api/v1/document-analytics' },
  { route: 'GET /api/v1/documents', path: () => '/api/v1/documents' },
  { route: 'POST /api/v1/documents', path: () => '/api/v1/documents' },
  { route: 'GET /api/v1/documents/:id', path: (i) => `/api/v1/documents/${i.documentId}` },
  { route: 'PATCH /api/v1/documents/:id', path: (i) => `/api/v1/documents/${i.documentId}` },
  { route: 'POST /api/v1/documents/:id/versions', path: (i) => `/api/v1/documents/${i.documentId}/versions` },
  {
    route: 'GET /api/v1/documents/:id/versions/:version/file',
    path: (i) => `/api/v1/documents/${i.documentId}/versions/1/file`,
  },
  {
    route: 'PUT /api/v1/trust-center/certifications/:index/certificate',
    path: () => '/api/v1/trust-center/certifications/0/certificate',
  },
  { route: 'GET /api/v1/trust-center/certifications/expiring', path: () => '/api/v1/trust-center/certifications/expiring' },
  { route: 'GET /api/v1/trust-center/branding', path: () => '/api/v1/trust-center/branding' },
  { route: 'PUT /api/v1/trust-center/branding', path: () => '/api/v1/trust-center/branding' },
  { route: 'PUT /api/v1/trust-center/branding/logo', path: () => '/api/v1/trust-center/branding/logo' },
  { route: 'GET /api/v1/trust-center/domains', path: () => '/api/v1/trust-center/domains' },
  { route: 'POST /api/v1/trust-center/domains', path: () => '/api/v1/trust-center/domains' },
  {
    route: 'POST /api/v1/trust-center/domains/:hostname/verify',
    path: () => '/api/v1/trust-center/domains/trust.example.com/verify',
  },
  { route: 'DELETE /api/v1/trust-center/domains/:hostname', path: () => '/api/v1/trust-center/domains/trust.example.com' },
];

/** Routes outside the walk: signing in and out is everyone's, and the API description is public. */
// Public pages: the sign-in form, password reset and invitations by emailed link (tested in the identity module).
const NOT_WALKED = new Set([
  'GET /admin/login',
  'POST /admin/login',
  'POST /admin/logout',
  // Passwordless sign-in with a passkey (tested in the mfa module).
  'POST /admin/login/passkey/options',
  'POST /admin/login/passkey',
  'GET /admin/forgot-password',
  'POST /admin/forgot-password',
  'GET /admin/reset-password/:token',
  'POST /admin/reset-password/:token',
  'GET /admin/invite/:token',
  'POST /admin/invite/:token',
  // Single sign-on's way in (tested in the sso module).
  'GET /admin/sso/start',
  'GET /admin/sso/callback',
  'GET /api/v1/openapi.json',
]);

/** What a reader may leave in the trail: refusals, reads, exports, verifications, their own sign-in. */
const READER_ACTIONS =
  /^(access\.denied|session\.signed_in|audit\.verified|backup\.verification_requested|[a-z_]+\.(viewed|downloaded|exported))$/;

let t: TestApp;
let owner: SignedIn;
let ownerToken: string;
let ids: Ids;

const methodOf = (c: RouteCase) => c.route.split(' ')[0] as Method;
const isRead = (c: RouteCase) => methodOf(c) === 'GET';
const isApi = (c: RouteCase) => c.route.split(' ')[1]?.startsWith('/api/') ?? false;
const expectedFor = (c: RouteCase, who: 'auditor' | 'employee') => c[who] ?? (who === 'auditor' && isRead(c) ? 200 : 403);

async function ownerApi<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await t.request(`/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** One request as `who`: a page with their session (and its form token), an API route with their token. */
async function call(c: RouteCase, session: SignedIn, token: string): Promise<Response> {
  const method = methodOf(c);
  const path = c.path(ids);
  if (isApi(c)) {
    return t.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(method === 'GET' ? {} : { body: '{}' }),
    });
  }
  return method === 'GET' ? t.request(path, { headers: { cookie: session.cookie } }) : t.postForm(path, session, {});
}

async function trail(): Promise<AuditEventRow[]> {
  return (await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 100_000, 0))).reverse();
}

/** What the owner sees of everything a write could touch, without fields that move by themselves. */
async function stateSnapshot() {
  const users = await ownerApi<{ items: { id: string; roles: string[]; status: string }[] }>('/users');
  const roles = await ownerApi<{ items: { slug: string; name: string; permissions: string[] }[] }>('/roles');
  const tokens = await ownerApi<{ items: { id: string; revokedAt: string | null; permissions: string[] }[] }>('/api-tokens');
  const destinations = await ownerApi<{ items: { id: string; enabled: boolean }[] }>('/siem/destinations');
  // Refusals may open new alerts (the system reacting, not the reader changing anything): only existing ones count.
  const alerts = await ownerApi<{ items: { id: string; status: string }[] }>('/alerts?status=all');
  const known = new Set([ids.alertId]);
  const keys = await ownerApi<{ activeVersion: number | null; keys: { purpose: string; version: number; state: string }[] }>(
    '/keys',
  );
  const backupSettings = await ownerApi<Record<string, unknown>>('/backups/settings');
  const backups = await ownerApi<{ items: { id: string; status: string }[] }>('/backups');
  const retention = await ownerApi<{ items: { category: string; periodDays: number; held: boolean }[] }>('/retention/rules');
  const allowlists = await ownerApi<{ items: { list: string; enabled: boolean; entries: unknown[] }[] }>('/ip-allowlists');
  const reviews = await ownerApi<{ items: { id: string; status: string; counts: unknown }[] }>('/access-reviews');
  const reviewSettings = await ownerApi<Record<string, unknown>>('/access-reviews/settings');
  const sod = await ownerApi<{ items: { id: string; enabled: boolean }[] }>('/sod/rules');
  const documents = await ownerApi<{ items: { id: string; updatedAt: string; currentVersion: number | null }[] }>('/documents');
  return {
    documents: documents.items.map((d) => [d.id, d.updatedAt, d.currentVersion]),
    users: users.items.map((u) => [u.id, u.roles, u.status]),
    roles: roles.items.map((r) => [r.slug, r.name, r.permissions]),
    tokens: tokens.items.map((k) => [k.id, k.revokedAt, k.permissions]),
    destinations: destinations.items.map((d) => [d.id, d.enabled]),
    alerts: alerts.items.filter((a) => known.has(a.id)).map((a) => [a.id, a.status]),
    keys: [keys.activeVersion, keys.keys.map((k) => [k.purpose, k.version, k.state])],
    backups: [backupSettings, backups.items.map((b) => [b.id, b.status])],
    retention: retention.items.map((r) => [r.category, r.periodDays, r.held]),
    allowlists: allowlists.items.map((a) => [a.list, a.enabled, a.entries]),
    reviews: [reviewSettings, reviews.items.map((r) => [r.id, r.status, r.counts])],
    sod: sod.items.map((r) => [r.id, r.enabled]),
  };
}

beforeAll(async () => {
  t = await createTestApp({ workJobs: true });
  owner = await t.signInAsOwner();
  ownerToken = await t.apiToken('owner');
  const system = t.contextOf({ kind: 'system', name: 'cli' });
  const role = await createCustomRole(system, { name: 'Walkers', permissions: ['audit.read'] });
  const mailId = await t.runtime.db.withTenant(t.tenant.id, (tx) =>
    t.runtime.mail.enqueue(tx, t.tenant.id, { to: 'someone@example.test', subject: 'Walk', text: 'Hello.' }),
  );
  await waitFor(async () => {
    const row = await t.runtime.db.withTenant(t.tenant.id, (tx) => findOutboxRow(tx, mailId));
    return row?.status === 'kept';
  });
  // Five refusals by one actor open an alert (the "repeated permission denials" rule).
  const employeeToken = await t.apiToken('employee');
  for (let i = 0; i < 5; i++) {
    await t.request('/api/v1/alerts', { headers: { authorization: `Bearer ${employeeToken}` } });
  }
  const alerts = await ownerApi<{ items: { id: string }[] }>('/alerts');
  const destination = await ownerApi<{ id: string }>('/siem/destinations', {
    method: 'POST',
    body: { kind: 'syslog', name: 'walk', host: '127.0.0.1', port: 9, tls: false, startAt: 'now' },
  });
  const tokens = await ownerApi<{ items: { id: string }[] }>('/api-tokens');
  // A failed attempt as the backup to read: a real backup would run while the walk watches the trail.
  const backup = await t.runtime.db.withSystem((tx) =>
    insertBackup(tx, {
      id: '00000000-0000-4000-8000-00000000b0c0',
      status: 'failed',
      trigger: 'manual',
      destination: 'walk',
      error: 'a fixture, never run',
      createdAt: new Date(),
    }),
  );
  // A closed access review to read (and to try deciding on, closing and reassigning in).
  const review = await ownerApi<{ id: string }>('/access-reviews', { method: 'POST', body: {} });
  const reviewItems = await ownerApi<{ items: { id: string }[] }>(`/access-reviews/${review.id}`);
  await ownerApi(`/access-reviews/${review.id}/close`, { method: 'POST' });
  // A gated document with one version, to read, download and try changing.
  const document = await ownerApi<{ id: string }>('/documents', { method: 'POST', body: { title: 'Walk', accessLevel: 'nda' } });
  const upload = new FormData();
  upload.set('file', new File([(await composePages(1)) as Uint8Array<ArrayBuffer>], 'walk.pdf'));
  const uploaded = await t.request(`/api/v1/documents/${document.id}/versions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ownerToken}` },
    body: upload,
  });
  expect(uploaded.status).toBe(201);
  ids = {
    documentId: document.id,
    reviewId: review.id,
    reviewItemId: reviewItems.items[0]?.id ?? '',
    userId: owner.userId,
    role: role.slug,
    mailId,
    alertId: alerts.items[0]?.id ?? '',
    destinationId: destination.id,
    tokenId: tokens.items[0]?.id ?? '',
    backupId: backup.id,
  };
  expect(ids.alertId).not.toBe('');
});

afterAll(async () => {
  await t.close();
});

describe('the read-only walk', () => {
  it('names every back-office page and API route the app serves', () => {
    const served = new Set(
      t.app.routes
        .filter((r) => r.method !== 'ALL' && (r.path.startsWith('/admin') || r.path.startsWith('/api/v1')))
        .map((r) => `${r.method} ${r.path}`)
        .filter((r) => !NOT_WALKED.has(r)),
    );
    const listed = new Set(ROUTES.map((c) => c.route));
    expect(
      [...served].filter((r) => !listed.has(r)),
      'routes missing from the walk',
    ).toEqual([]);
    expect(
      [...listed].filter((r) => !served.has(r)),
      'routes the app no longer serves',
    ).toEqual([]);
  });

  it('lets an auditor read, export and verify everything and change nothing, each refusal recorded', async () => {
    const auditor = await t.signInAs('auditor');
    const auditorToken = await t.apiToken('auditor');
    const before = await stateSnapshot();
    const firstSeq = (await trail()).at(-1)?.seq ?? 0;
    const results: string[] = [];
    for (const c of ROUTES) {
      const res = await call(c, auditor, auditorToken);
      results.push(`${c.route} → ${res.status}`);
      await res.arrayBuffer();
    }
    expect(results).toEqual(ROUTES.map((c) => `${c.route} → ${expectedFor(c, 'auditor')}`));

    const after = await trail();
    const byAuditor = after.filter((e) => e.seq > firstSeq);
    expect(byAuditor.map((e) => e.action).filter((a) => !READER_ACTIONS.test(a))).toEqual([]);
    // Every refused change is in the trail as a permission denial, with the path it was aimed at.
    const denied = new Set(
      byAuditor.filter((e) => e.action === 'access.denied').map((e) => `${e.details.method} ${e.details.path}`),
    );
    for (const c of ROUTES.filter((r) => expectedFor(r, 'auditor') === 403)) {
      expect(denied.has(`${methodOf(c)} ${c.path(ids)}`), `${c.route} refused without a record`).toBe(true);
    }
    expect(await stateSnapshot()).toEqual(before);
  });

  it('gives an employee their dashboard and who they are, and refuses every other route', async () => {
    const employee = await t.signInAs('employee');
    const employeeToken = await t.apiToken('employee');
    const before = await stateSnapshot();
    const results: string[] = [];
    for (const c of ROUTES) {
      const res = await call(c, employee, employeeToken);
      results.push(`${c.route} → ${res.status}`);
      await res.arrayBuffer();
    }
    expect(results).toEqual(ROUTES.map((c) => `${c.route} → ${expectedFor(c, 'employee')}`));
    expect(await stateSnapshot()).toEqual(before);
  });

  it('shows an auditor the navigation of what they can read, and an employee only the dashboard', async () => {
    const nav = (html: string) => {
      const sidebar = /<nav aria-label="Back office">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '';
      return [...sidebar.matchAll(/<a href="(\/admin[^"]*)"/g)].map((m) => m[1]);
    };
    const auditorNav = nav(
      await (await t.request('/admin', { headers: { cookie: (await t.signInAs('auditor')).cookie } })).text(),
    );
    expect(auditorNav).toEqual(
      expect.arrayContaining([
        '/admin/audit',
        '/admin/alerts',
        '/admin/siem',
        '/admin/keys',
        '/admin/users',
        '/admin/roles',
        '/admin/grant-requests',
        '/admin/separation-of-duties',
        '/admin/backups',
        '/admin/retention',
        '/admin/outbox',
      ]),
    );
    const employeeNav = nav(
      await (await t.request('/admin', { headers: { cookie: (await t.signInAs('employee')).cookie } })).text(),
    );
    expect(employeeNav).toEqual(['/admin']);
    const employeeDashboard = await (
      await t.request('/admin', { headers: { cookie: (await t.signInAs('employee')).cookie } })
    ).text();
    expect(employeeDashboard).not.toContain('href="/admin/outbox"');
  });
});
