import type { Runtime } from '../../platform/context.ts';
import type { RegisteredJob } from '../../platform/jobs/jobs.ts';

/**
 * Identity has no scheduled work of its own: ended sessions, spent setup links and ended API tokens are
 * purged by the retention capability (`retention.purge`), each after its category's period.
 */
export function identityJobs(_runtime: Runtime): RegisteredJob[] {
  return [];
}
