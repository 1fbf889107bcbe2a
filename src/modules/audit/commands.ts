import type { DatabaseCommand } from '../../platform/cli/command.ts';

export const auditCommands: DatabaseCommand[] = [];
