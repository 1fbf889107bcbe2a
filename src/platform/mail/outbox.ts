import type { Tx } from '../db/client.ts';

/** A message to send; `enqueue` refuses (ZodError) one without a valid recipient address or subject. */
export interface OutgoingMail {
  /** Plain addresses (`ada@example.com`), one or more. */
  to: string | string[];
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

export interface Mailer {
  /**
   * Writes the mail to the outbox inside the caller's transaction (so it exists if and only if the
   * change that causes it commits) and queues its delivery. Returns the outbox id.
   */
  enqueue(tx: Tx, tenantId: string, mail: OutgoingMail): Promise<string>;
}
