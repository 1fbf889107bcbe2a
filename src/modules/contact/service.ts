import { timingSafeEqual } from 'node:crypto';
import { auditScope } from '../../platform/audit/audit.ts';
import { actorLabel, type RequestContext } from '../../platform/context.ts';
import { encryptedTextColumn, type Reencryptable } from '../../platform/crypto/reencryption.ts';
import type { Tx } from '../../platform/db/client.ts';
import { NotFound } from '../../platform/errors.ts';
import { requirePermission } from '../access/service.ts';
import { publishedContent } from '../trust-center/service.ts';
import { contactMail } from './mail.tsx';
import type { ContactInput, ContactTopic } from './schema.ts';
import { type ContactMessageRow, deleteHandledBefore, findMessage, insertMessage, listMessages, markHandled } from './store.ts';
import { contactMessages } from './tables.ts';

/** Faster than this from opening the form to sending it is a robot. */
export const MIN_FILL_MS = 3_000;
/** An older form token is refused: a day is long enough for any person. */
export const MAX_FILL_MS = 24 * 60 * 60_000;

const sealed = (column: typeof contactMessages.email | typeof contactMessages.body) =>
  encryptedTextColumn({ table: contactMessages, tenantId: contactMessages.tenantId, rowId: contactMessages.id, column });
const senderEmail = sealed(contactMessages.email);
const messageBody = sealed(contactMessages.body);

export const contactEncryptedColumns: Reencryptable[] = [senderEmail, messageBody];

const FORM_TOKEN = 'contact-form-token';

/** `<ms>.<HMAC>` under the tenant's index key: when the form was opened, unforgeable, nothing stored. */
export async function issueFormToken(ctx: RequestContext): Promise<string> {
  const issued = ctx.clock.now().getTime();
  const mac = await ctx.db.withTenant(ctx.tenant.id, (tx) => ctx.keys.blindIndex(tx, ctx.tenant.id, String(issued), FORM_TOKEN));
  return `${issued}.${mac}`;
}

async function formTokenIsHuman(ctx: RequestContext, tx: Tx, token: string): Promise<boolean> {
  const [issued, mac] = token.split('.');
  if (!issued || !mac || !/^\d{1,15}$/.test(issued)) return false;
  const expected = await ctx.keys.blindIndex(tx, ctx.tenant.id, issued, FORM_TOKEN);
  if (expected.length !== mac.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(mac))) return false;
  const age = ctx.clock.now().getTime() - Number(issued);
  return age >= MIN_FILL_MS && age <= MAX_FILL_MS;
}

export type ContactOutcome = 'kept' | 'dropped';

/**
 * A visitor's message. A filled honeypot or a bad, too fast or too old form token marks a robot: it is dropped
 * without a trace and the caller gives the same answer as for a kept message, so a robot learns nothing.
 */
export async function receiveContactMessage(
  ctx: RequestContext,
  input: ContactInput,
  spam: { honeypot: string; token: string },
): Promise<ContactOutcome> {
  if (spam.honeypot !== '') return 'dropped';
  const content = await publishedContent(ctx, ctx.tenant.id);
  const routedTo = content.sections.get('contact')?.document.fields[input.topic] || null;
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    if (!(await formTokenIsHuman(ctx, tx, spam.token))) return 'dropped';
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    const id = crypto.randomUUID();
    await insertMessage(tx, {
      tenantId: ctx.tenant.id,
      id,
      topic: input.topic,
      routedTo,
      name: input.name,
      email: senderEmail.seal(cipher, id, input.email),
      body: messageBody.seal(cipher, id, input.message),
      createdAt: ctx.clock.now(),
    });
    await ctx.audit.record(tx, auditScope(ctx), {
      action: 'contact.message_received',
      target: { type: 'contact_message', id },
      details: { topic: input.topic, routed: routedTo !== null },
    });
    if (routedTo)
      await ctx.mail.enqueue(tx, ctx.tenant.id, contactMail({ to: routedTo, companyName: ctx.tenant.name, id, ...input }));
    return 'kept';
  });
}

export interface ContactMessage {
  id: string;
  topic: ContactTopic;
  routedTo: string | null;
  name: string;
  email: string;
  message: string;
  createdAt: Date;
  handledAt: Date | null;
  handledBy: string | null;
}

function opened(cipher: Awaited<ReturnType<RequestContext['keys']['forTenant']>>, row: ContactMessageRow): ContactMessage {
  return {
    id: row.id,
    topic: row.topic as ContactTopic,
    routedTo: row.routedTo,
    name: row.name,
    email: senderEmail.open(cipher, row.id, row.email),
    message: messageBody.open(cipher, row.id, row.body),
    createdAt: row.createdAt,
    handledAt: row.handledAt,
    handledBy: row.handledBy,
  };
}

/** The newest messages. Needs `content.read`. */
export async function listContactMessages(ctx: RequestContext): Promise<ContactMessage[]> {
  requirePermission(ctx.actor, 'content.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const cipher = await ctx.keys.forTenant(tx, ctx.tenant.id);
    return (await listMessages(tx, ctx.tenant.id, 200)).map((r) => opened(cipher, r));
  });
}

export async function getContactMessage(ctx: RequestContext, id: string): Promise<ContactMessage> {
  requirePermission(ctx.actor, 'content.read');
  return ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await findMessage(tx, ctx.tenant.id, id);
    if (!row) throw new NotFound('contact message', id);
    return opened(await ctx.keys.forTenant(tx, ctx.tenant.id), row);
  });
}

/** Marks a message handled. Needs `content.edit`. */
export async function markContactMessageHandled(ctx: RequestContext, id: string): Promise<void> {
  requirePermission(ctx.actor, 'content.edit');
  await ctx.db.withTenant(ctx.tenant.id, async (tx) => {
    const row = await findMessage(tx, ctx.tenant.id, id);
    if (!row) throw new NotFound('contact message', id);
    if (row.handledAt) return;
    await markHandled(tx, ctx.tenant.id, id, ctx.clock.now(), actorLabel(ctx.actor));
    await ctx.audit.record(tx, auditScope(ctx), { action: 'contact.message_handled', target: { type: 'contact_message', id } });
  });
}

/** Retention: handled messages older than the cutoff. */
export function purgeHandledContactMessages(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number> {
  return deleteHandledBefore(tx, tenantId, cutoff, batchSize);
}
