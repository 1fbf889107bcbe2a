import { z } from 'zod';
import type { Runtime } from '../../platform/context.ts';
import { defineJob, type RegisteredJob, registrable } from '../../platform/jobs/jobs.ts';
import { sendCertificateReminders } from './reminders.ts';
import { publishDueDrafts } from './service.ts';

/** Every minute: publish the drafts whose scheduled time has come, in every tenant; daily: expiry reminders. */
export function trustCenterJobs(runtime: Runtime): RegisteredJob[] {
  const publishDue = defineJob({
    name: 'trust-center.publish-due',
    payload: z.object({}),
    cron: '* * * * *',
    cronPayload: {},
    handler: async () => {
      await publishDueDrafts(runtime);
    },
  });
  // Daily: a missed day is caught up by the next run (thresholds count once reached, each is sent once).
  const certificateReminders = defineJob({
    name: 'trust-center.certificate-reminders',
    payload: z.object({}),
    cron: '0 6 * * *',
    cronPayload: {},
    handler: async () => {
      await sendCertificateReminders(runtime);
    },
  });
  return [registrable(publishDue), registrable(certificateReminders)];
}
