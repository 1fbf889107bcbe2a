import type { Runtime } from '../platform/context.ts';
import type { RegisteredJob } from '../platform/jobs/jobs.ts';
import { alertsJobs } from './alerts/jobs.ts';
import { auditJobs } from './audit/jobs.ts';
import { identityJobs } from './identity/jobs.ts';
import { siemJobs } from './siem/jobs.ts';

/** Every capability's jobs, registered once per process. */
export function moduleJobs(runtime: Runtime): RegisteredJob[] {
  return [...identityJobs(runtime), ...auditJobs(runtime), ...alertsJobs(runtime), ...siemJobs(runtime)];
}
