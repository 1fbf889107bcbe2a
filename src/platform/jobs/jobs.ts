import type { z } from 'zod';
import type { Tx } from '../db/client.ts';

/**
 * A job: a named piece of work with a validated payload, run by a worker, optionally on a cron schedule.
 * Capabilities declare jobs with defineJob and never talk to the queue library directly.
 */
export interface JobDefinition<P = unknown> {
  name: string;
  payload: z.ZodType<P>;
  /** Five-field cron expression in UTC; the job then runs once per slot across all processes. */
  cron?: string;
  /** Payload sent on each cron slot. */
  cronPayload?: P;
  retry?: { limit: number; delaySeconds: number; backoff: boolean };
  /** How long one run may take before the queue counts it as failed (default 15 minutes). */
  expireInSeconds?: number;
  handler: (payload: P, job: { id: string }) => Promise<void>;
}

export function defineJob<P>(definition: JobDefinition<P>): JobDefinition<P> {
  return definition;
}

/** A job with its payload type erased, so jobs with different payloads can share one list. */
export interface RegisteredJob {
  name: string;
  cron?: string | undefined;
  cronPayload?: unknown;
  retry?: JobDefinition['retry'];
  expireInSeconds?: number | undefined;
  /** Validates the stored payload with the job's schema, then runs the handler. */
  run(data: unknown, job: { id: string }): Promise<void>;
}

export function registrable<P>(def: JobDefinition<P>): RegisteredJob {
  return {
    name: def.name,
    cron: def.cron,
    cronPayload: def.cronPayload,
    retry: def.retry,
    expireInSeconds: def.expireInSeconds,
    run: (data, job) => def.handler(def.payload.parse(data), job),
  };
}

export interface EnqueueOptions {
  /** Enqueue inside this transaction: the job exists if and only if the transaction commits. */
  tx?: Tx;
  startAfter?: Date;
  /** At most one queued job with this key at a time. */
  singletonKey?: string;
}

export interface Jobs {
  /** Registers definitions; call before start. */
  register(...jobs: RegisteredJob[]): void;
  /** Installs the queue schema and, when `work` is true, polls for jobs and keeps cron schedules. */
  start(options: { work: boolean }): Promise<void>;
  /**
   * Queues one run. With `tx`, the job exists if and only if that transaction commits. On PGlite (one
   * connection) a job caused by a change must be queued with that change's `tx`, never beside it.
   * Resolves to the job id, or null when `singletonKey` found an equivalent job already waiting.
   */
  enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<string | null>;
  /** Stops polling and waits for running handlers to finish. */
  stop(): Promise<void>;
}
