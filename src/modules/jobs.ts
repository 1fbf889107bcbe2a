import type { Runtime } from '../platform/context.ts';
import type { RegisteredJob } from '../platform/jobs/jobs.ts';
import { identityJobs } from './identity/jobs.ts';

/** Every capability's jobs, registered once per process. */
export function moduleJobs(runtime: Runtime): RegisteredJob[] {
  return [...identityJobs(runtime)];
}
