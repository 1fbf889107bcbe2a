import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../platform/context.ts';
import type { TenantCipher } from '../../platform/crypto/keyring.ts';
import { newSecret, sha256Hex } from '../../platform/crypto/secrets.ts';
import type { Tx } from '../../platform/db/client.ts';
import { type DocumentRow, readDocuments } from '../documents/store.ts';
import { recordAccess } from './access-events.ts';
import { domainOf } from './domains.ts';
import { sealRequest, sealSignature } from './sealing.ts';
import { DEFAULT_GRANT_DAYS, LINK_HOURS } from './service.ts';
import {
  type GrantRow,
  insertGrant,
  insertRequest,
  insertSignature,
  latestNda,
  type NdaVersionRow,
  type RequestRow,
  revokeGrantRow,
} from './store.ts';

/**
 * Ten weeks of fictional request history for the demo tenant, so a newcomer finds requests, grants, analytics
 * and leak traces to look at. Rows are written through the store with past timestamps (the services stamp "now"),
 * sealed exactly like real ones; every person, company and address is invented.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const APPROVER = 'mira.santos@halcyon-ledger.example';

type DocKey = 'soc2' | 'pentest';
const DOC_TITLES: Record<DocKey, string> = {
  soc2: 'SOC 2 Type II report 2026',
  pentest: 'Penetration test summary',
};

/** Something done with a grant, hours after it was created: a view of the grant page, or a download of one document. */
type DemoAccess = { hours: number; kind: 'viewed' } | { hours: number; kind: 'downloaded'; document: DocKey };

type DemoOutcome =
  | { state: 'unverified' }
  | { state: 'refused' }
  | { state: 'pending' }
  | { state: 'denied'; reason: string }
  | {
      state: 'approved';
      rule: 'allowed_domain' | 'nda_signed' | 'approver';
      /** Days after the grant when an approver revoked it. */
      revokedAfterDays?: number;
      accesses: DemoAccess[];
    };

interface DemoRequest {
  name: string;
  email: string;
  company: string;
  reason: string;
  documents: DocKey[];
  /** When the form was sent: whole days ago, at this UTC hour. */
  daysAgo: number;
  hour: number;
  ip: string;
  userAgent: string;
  outcome: DemoOutcome;
}

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0';
const CHROME = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const EDGE =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0';
const SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15';

/** Oldest first. Addresses use the documentation ranges (RFC 5737); a refused one comes from a fictional webmail. */
const DEMO_REQUESTS: DemoRequest[] = [
  {
    name: 'Priya Raman',
    email: 'priya.raman@northwind-freight.example',
    company: 'Northwind Freight',
    reason: 'Annual vendor security review of our bookkeeping supplier.',
    documents: ['soc2', 'pentest'],
    daysAgo: 68,
    hour: 9,
    ip: '198.51.100.24',
    userAgent: CHROME,
    outcome: {
      state: 'approved',
      rule: 'allowed_domain',
      accesses: [
        { hours: 0.2, kind: 'viewed' },
        { hours: 0.3, kind: 'downloaded', document: 'soc2' },
        { hours: 50, kind: 'viewed' },
        { hours: 50.1, kind: 'downloaded', document: 'pentest' },
      ],
    },
  },
  {
    name: 'Tomas Lindqvist',
    email: 'tomas.lindqvist@bluefin-payroll.example',
    company: 'Bluefin Payroll',
    reason: 'Contract renewal: our procurement team needs the current SOC 2 report.',
    documents: ['soc2'],
    daysAgo: 57,
    hour: 13,
    ip: '203.0.113.77',
    userAgent: EDGE,
    outcome: {
      state: 'approved',
      rule: 'allowed_domain',
      revokedAfterDays: 9,
      accesses: [
        { hours: 0.1, kind: 'viewed' },
        { hours: 0.2, kind: 'downloaded', document: 'soc2' },
        { hours: 26, kind: 'downloaded', document: 'soc2' },
      ],
    },
  },
  {
    name: 'Amara Okafor',
    email: 'amara.okafor@cobalt-mutual.example',
    company: 'Cobalt Mutual Insurance',
    reason: 'Third-party risk assessment before we move our claims ledger.',
    documents: ['soc2'],
    daysAgo: 47,
    hour: 10,
    ip: '192.0.2.140',
    userAgent: FIREFOX,
    outcome: {
      state: 'approved',
      rule: 'nda_signed',
      accesses: [
        { hours: 0.3, kind: 'viewed' },
        { hours: 0.4, kind: 'downloaded', document: 'soc2' },
      ],
    },
  },
  {
    name: 'Hugo Marchetti',
    email: 'hugo.marchetti@vellum-rook.example',
    company: 'Vellum & Rook LLP',
    reason: 'Completing the security questionnaire for a client who keeps their books with you.',
    documents: ['soc2', 'pentest'],
    daysAgo: 40,
    hour: 15,
    ip: '198.51.100.203',
    userAgent: SAFARI,
    outcome: {
      state: 'approved',
      rule: 'approver',
      accesses: [
        { hours: 1, kind: 'viewed' },
        { hours: 1.1, kind: 'downloaded', document: 'soc2' },
        { hours: 1.2, kind: 'downloaded', document: 'pentest' },
        { hours: 98, kind: 'viewed' },
      ],
    },
  },
  {
    name: 'Jordan Pike',
    email: 'jordan.pike@quarry-analytics.example',
    company: 'Quarry Analytics',
    reason: 'Market research on security practices of accounting platforms.',
    documents: ['pentest'],
    daysAgo: 33,
    hour: 11,
    ip: '203.0.113.9',
    userAgent: CHROME,
    outcome: {
      state: 'denied',
      reason:
        'We share the penetration test summary with customers and with firms evaluating Halcyon Ledger. Our public security whitepaper covers our practices in general.',
    },
  },
  {
    name: 'Sam Whitlock',
    email: 'sam.whitlock@postbox.example',
    company: 'Freelance',
    reason: 'Curious about your security.',
    documents: ['soc2'],
    daysAgo: 26,
    hour: 20,
    ip: '192.0.2.61',
    userAgent: FIREFOX,
    outcome: { state: 'refused' },
  },
  {
    name: 'Lena Vogt',
    email: 'lena.vogt@northwind-freight.example',
    company: 'Northwind Freight',
    reason: 'Follow-up from our vendor review: the new penetration test summary.',
    documents: ['pentest'],
    daysAgo: 20,
    hour: 8,
    ip: '198.51.100.25',
    userAgent: EDGE,
    outcome: {
      state: 'approved',
      rule: 'allowed_domain',
      accesses: [
        { hours: 0.1, kind: 'viewed' },
        { hours: 0.2, kind: 'downloaded', document: 'pentest' },
      ],
    },
  },
  {
    name: 'Ines Carvalho',
    email: 'ines.carvalho@tidewater-dental.example',
    company: 'Tidewater Dental Group',
    reason: 'Our auditor asked for the SOC 2 report of our finance tools.',
    documents: ['soc2'],
    daysAgo: 14,
    hour: 14,
    ip: '203.0.113.150',
    userAgent: SAFARI,
    outcome: {
      state: 'approved',
      rule: 'nda_signed',
      accesses: [
        { hours: 0.2, kind: 'viewed' },
        { hours: 0.3, kind: 'downloaded', document: 'soc2' },
        { hours: 72, kind: 'viewed' },
      ],
    },
  },
  {
    name: 'Rafael Ortiz',
    email: 'rafael.ortiz@bluefin-payroll.example',
    company: 'Bluefin Payroll',
    reason: 'Security review for the payroll integration project.',
    documents: ['soc2', 'pentest'],
    daysAgo: 9,
    hour: 10,
    ip: '203.0.113.78',
    userAgent: CHROME,
    outcome: {
      state: 'approved',
      rule: 'allowed_domain',
      accesses: [
        { hours: 0.1, kind: 'viewed' },
        { hours: 0.2, kind: 'downloaded', document: 'pentest' },
        { hours: 0.25, kind: 'downloaded', document: 'soc2' },
      ],
    },
  },
  {
    name: 'Noor Haddad',
    email: 'noor.haddad@ferncliff-capital.example',
    company: 'Ferncliff Capital',
    reason: 'Due diligence on a portfolio company’s suppliers.',
    documents: ['soc2'],
    daysAgo: 5,
    hour: 16,
    ip: '192.0.2.88',
    userAgent: FIREFOX,
    outcome: { state: 'approved', rule: 'nda_signed', accesses: [{ hours: 0.5, kind: 'viewed' }] },
  },
  {
    name: 'Mei Tanaka',
    email: 'mei.tanaka@larkspur-health.example',
    company: 'Larkspur Health',
    reason: 'We are evaluating Halcyon Ledger for the bookkeeping of our twelve clinics.',
    documents: ['soc2', 'pentest'],
    daysAgo: 2,
    hour: 9,
    ip: '198.51.100.142',
    userAgent: EDGE,
    outcome: { state: 'pending' },
  },
  {
    name: 'Oskar Brandt',
    email: 'oskar.brandt@granite-works.example',
    company: 'Granite Works',
    reason: 'Supplier onboarding.',
    documents: ['soc2'],
    daysAgo: 1,
    hour: 7,
    ip: '192.0.2.200',
    userAgent: CHROME,
    outcome: { state: 'unverified' },
  },
];

interface Seeding {
  ctx: RequestContext;
  tx: Tx;
  cipher: TenantCipher;
  nda: NdaVersionRow;
  documents: Record<DocKey, DocumentRow>;
  now: Date;
}

/** The context of something a requester (or the demo's approver) did at `at`, from `client`. */
function at(s: Seeding, when: Date, client?: { ip: string; userAgent: string }): RequestContext {
  return { ...s.ctx, clock: { now: () => when }, ...(client ?? {}) };
}

function forDocuments(s: Seeding, keys: DocKey[], withVersion: boolean) {
  return keys.map((k) => ({ id: s.documents[k].id, version: withVersion ? s.documents[k].currentVersion : null }));
}

async function seedSignature(s: Seeding, request: RequestRow, d: DemoRequest, signedAt: Date): Promise<void> {
  const id = randomUUID();
  await insertSignature(s.tx, {
    tenantId: s.ctx.tenant.id,
    id,
    requestId: request.id,
    ...sealSignature(s.cipher, id, { email: d.email, typedName: d.name, ip: d.ip, userAgent: d.userAgent }),
    ndaVersion: s.nda.version,
    ndaSha256: s.nda.sha256,
    signedAt,
  });
}

async function seedGrant(s: Seeding, request: RequestRow, d: DemoRequest, createdAt: Date): Promise<GrantRow> {
  const granted = d.documents.map((k) => s.documents[k]);
  const days = Math.min(...granted.map((doc) => doc.grantDays ?? DEFAULT_GRANT_DAYS));
  const versions: Record<string, number> = {};
  for (const doc of granted) if (doc.currentVersion !== null) versions[doc.id] = doc.currentVersion;
  // Nobody holds the link of a seeded grant: only the hash of a fresh secret is kept.
  return insertGrant(s.tx, {
    tenantId: s.ctx.tenant.id,
    requestId: request.id,
    tokenHash: sha256Hex(newSecret()),
    versions,
    expiresAt: new Date(createdAt.getTime() + days * DAY),
    createdAt,
  });
}

async function seedAccesses(s: Seeding, request: RequestRow, d: DemoRequest, grant: GrantRow, accesses: DemoAccess[]) {
  const ends = Math.min(grant.expiresAt.getTime(), grant.revokedAt?.getTime() ?? Number.POSITIVE_INFINITY, s.now.getTime());
  for (const access of accesses) {
    const when = new Date(grant.createdAt.getTime() + access.hours * HOUR);
    if (when.getTime() >= ends) continue;
    const documents = access.kind === 'viewed' ? forDocuments(s, d.documents, true) : forDocuments(s, [access.document], true);
    await recordAccess(at(s, when, d), s.tx, request, access.kind, documents, grant.id);
  }
}

/** One request and what followed it, each step at its own time. */
async function seedRequest(s: Seeding, d: DemoRequest): Promise<void> {
  const created = new Date(Date.UTC(s.now.getUTCFullYear(), s.now.getUTCMonth(), s.now.getUTCDate() - d.daysAgo) + d.hour * HOUR);
  const verified = new Date(created.getTime() + 0.1 * HOUR);
  const signed = new Date(created.getTime() + 0.25 * HOUR);
  const o = d.outcome;
  const id = randomUUID();
  const stored = await insertRequest(s.tx, {
    tenantId: s.ctx.tenant.id,
    id,
    ...sealRequest(s.cipher, id, {
      name: d.name,
      email: d.email,
      company: d.company,
      reason: d.reason,
      ip: d.ip,
      userAgent: d.userAgent,
    }),
    emailDomain: domainOf(d.email),
    documentIds: d.documents.map((k) => s.documents[k].id),
    state: o.state,
    rule:
      o.state === 'approved' ? o.rule : o.state === 'refused' ? 'blocked_domain' : o.state === 'unverified' ? null : 'approver',
    locale: 'en',
    origin: 'http://demo.localhost',
    // Only a request still waiting for its mail to be confirmed has a live link (whose secret nobody holds).
    tokenHash: o.state === 'unverified' ? sha256Hex(newSecret()) : null,
    tokenExpiresAt: o.state === 'unverified' ? new Date(created.getTime() + LINK_HOURS * HOUR) : null,
    createdAt: created,
    verifiedAt: o.state === 'unverified' ? null : verified,
    ...decisionOf(
      o,
      o.state === 'refused'
        ? verified
        : o.state === 'approved' && o.rule !== 'approver'
          ? signed
          : new Date(signed.getTime() + 20 * HOUR),
    ),
  });
  // Access events carry the company as typed, in clear, like the request flow writes them.
  const request = { ...stored, company: d.company };
  await recordAccess(at(s, created, d), s.tx, request, 'requested', forDocuments(s, d.documents, false));
  if (o.state === 'unverified' || o.state === 'refused') {
    if (o.state === 'refused') await recordAccess(at(s, verified), s.tx, request, 'denied', forDocuments(s, d.documents, false));
    return;
  }
  await seedSignature(s, stored, d, signed);
  if (o.state === 'pending') return;
  const decided = stored.decidedAt ?? signed;
  if (o.state === 'denied') {
    await recordAccess(at(s, decided), s.tx, request, 'denied', forDocuments(s, d.documents, false));
    return;
  }
  let grant = await seedGrant(s, stored, d, decided);
  await recordAccess(at(s, decided), s.tx, request, 'approved', forDocuments(s, d.documents, true), grant.id);
  if (o.revokedAfterDays !== undefined)
    grant =
      (await revokeGrantRow(s.tx, s.ctx.tenant.id, grant.id, new Date(decided.getTime() + o.revokedAfterDays * DAY), APPROVER)) ??
      grant;
  await seedAccesses(s, request, d, grant, o.accesses);
}

function decisionOf(o: DemoOutcome, when: Date): Partial<RequestRow> {
  switch (o.state) {
    case 'unverified':
    case 'pending':
      return {};
    case 'refused':
      return { decidedAt: when, decidedBy: 'rules' };
    case 'denied':
      return { decidedAt: when, decidedBy: APPROVER, decisionReason: o.reason };
    case 'approved':
      return { decidedAt: when, decidedBy: o.rule === 'approver' ? APPROVER : 'rules' };
  }
}

/** Seeds the history; needs the demo documents and the published NDA (addDemoDocuments, addDemoRequestRules). */
export async function addDemoRequestHistory(ctx: RequestContext): Promise<void> {
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const all = await readDocuments(tx, ctx.tenant.id);
    const find = (key: DocKey) => {
      const found = all.find((doc) => doc.title === DOC_TITLES[key]);
      if (!found) throw new Error(`demo document missing: ${DOC_TITLES[key]}`);
      return found;
    };
    const nda = await latestNda(tx, ctx.tenant.id);
    if (!nda) throw new Error('the demo NDA must be published before its history');
    const s: Seeding = {
      ctx,
      tx,
      cipher: await ctx.keys.forTenant(tx, ctx.tenant.id),
      nda,
      documents: { soc2: find('soc2'), pentest: find('pentest') },
      now: ctx.clock.now(),
    };
    for (const d of DEMO_REQUESTS) await seedRequest(s, d);
  });
}
