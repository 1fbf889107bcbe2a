import type { Runtime } from '../../platform/context.ts';
import type { RegisteredJob } from '../../platform/jobs/jobs.ts';

export function alertsJobs(_runtime: Runtime): RegisteredJob[] {
  return [];
}
