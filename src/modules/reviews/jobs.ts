import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type JobDefinition, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { sendReviewNotices, startScheduledCampaigns } from './service.ts';

const Empty = z.object({}).strict() as z.ZodType<Record<string, never>>;

export interface ReviewJobs {
  /** 06:00 UTC on the first day of January, April, July and October: a campaign per tenant with the schedule on. */
  quarterly: JobDefinition<Record<string, never>>;
  /** Every day at 07:00 UTC: reminders to reviewers with open items, overdue alerts once past due. */
  notices: JobDefinition<Record<string, never>>;
}

const definitions = new WeakMap<Runtime, ReviewJobs>();

export function reviewJobDefinitions(runtime: Runtime): ReviewJobs {
  const known = definitions.get(runtime);
  if (known) return known;
  const jobs: ReviewJobs = {
    quarterly: defineJob({
      name: 'reviews.quarterly',
      payload: Empty,
      cron: '0 6 1 1,4,7,10 *',
      cronPayload: {},
      handler: async () => {
        await startScheduledCampaigns(runtime);
      },
    }),
    notices: defineJob({
      name: 'reviews.notices',
      payload: Empty,
      cron: '0 7 * * *',
      cronPayload: {},
      handler: async () => {
        await sendReviewNotices(runtime);
      },
    }),
  };
  definitions.set(runtime, jobs);
  return jobs;
}

export function reviewsJobs(runtime: Runtime): RegisteredJob[] {
  const jobs = reviewJobDefinitions(runtime);
  return [registrable(jobs.quarterly), registrable(jobs.notices)];
}
