import type { Tx } from '../db/client.ts';

/** A message to send; `enqueue` refuses (ZodError) one without a valid recipient address or subject. */
export interface OutgoingMail {
  /** Plain addresses (`ada@example.com`), one or more. */
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  /** Files sent with the mail (a signed NDA): kept in the outbox row, so keep them small. */
  attachments?: MailAttachment[];
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Uint8Array;
}

export interface Mailer {
  /**
   * Writes the mail to the outbox inside the caller's transaction (so it exists if and only if the
   * change that causes it commits) and queues its delivery. Returns the outbox id.
   */
  enqueue(tx: Tx, tenantId: string, mail: OutgoingMail): Promise<string>;
  /**
   * Retention: deletes, in the caller's transaction, up to `batchSize` of the tenant's messages that were
   * sent, kept or failed for good before `cutoff`, with their kept .eml files. Returns how many went.
   */
  purgeFinished(tx: Tx, tenantId: string, cutoff: Date, batchSize: number): Promise<number>;
}
