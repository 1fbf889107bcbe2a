import type { Runtime } from '../platform/context.ts';
import type { RegisteredJob } from '../platform/jobs/jobs.ts';
import { alertsJobs } from './alerts/jobs.ts';
import { auditJobs } from './audit/jobs.ts';
import { backupsJobs } from './backups/jobs.ts';
import { identityJobs } from './identity/jobs.ts';
import { keysJobs } from './keys/jobs.ts';
import { retentionJobs } from './retention/jobs.ts';
import { reviewsJobs } from './reviews/jobs.ts';
import { siemJobs } from './siem/jobs.ts';
import { subscriptionJobs } from './subscriptions/jobs.ts';
import { trustCenterJobs } from './trust-center/jobs.ts';

/** Every capability's jobs, registered once per process. */
export function moduleJobs(runtime: Runtime): RegisteredJob[] {
  return [
    ...identityJobs(runtime),
    ...auditJobs(runtime),
    ...alertsJobs(runtime),
    ...siemJobs(runtime),
    ...keysJobs(runtime),
    ...backupsJobs(runtime),
    ...retentionJobs(runtime),
    ...reviewsJobs(runtime),
    ...trustCenterJobs(runtime),
    ...subscriptionJobs(runtime),
  ];
}
