import type { Runtime } from '../../platform/context.ts';
import type { RegisteredJob } from '../../platform/jobs/jobs.ts';

export function siemJobs(_runtime: Runtime): RegisteredJob[] {
  return [];
}
