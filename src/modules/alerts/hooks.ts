import type { Runtime } from '../../platform/context.ts';
import { RULES } from './rules.ts';
import { evaluateAlertRules } from './service.ts';

/**
 * Subscribes the detection rules to the audit trail: each event is judged as it is written, not in a batch.
 * Events no rule watches skip the hook (and its savepoint) altogether.
 */
export function registerAlertRules(runtime: Runtime): void {
  runtime.audit.onRecorded((tx, event) => evaluateAlertRules(runtime, tx, event), {
    when: (event) => RULES.some((rule) => rule.watches(event.action)),
  });
}
