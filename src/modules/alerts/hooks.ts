import type { Runtime } from '../../platform/context.ts';
import { evaluateAlertRules } from './service.ts';

/** Subscribes the detection rules to the audit trail: each event is judged as it is written, not in a batch. */
export function registerAlertRules(runtime: Runtime): void {
  runtime.audit.onRecorded((tx, event) => evaluateAlertRules(runtime, tx, event));
}
