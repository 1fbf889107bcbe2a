import type { Runtime } from '../platform/context.ts';
import { registerAlertRules } from './alerts/hooks.ts';
import { registerForwarding } from './siem/hooks.ts';
import { registerSubscriptionNotices } from './subscriptions/hooks.ts';

/** Capabilities that react to the audit trail as events are written. */
export function registerAuditHooks(runtime: Runtime): void {
  registerAlertRules(runtime);
  registerForwarding(runtime);
  registerSubscriptionNotices(runtime);
}
