import { personEmail, registerDutySource } from './access/duties.ts';
import { configuredAlertContacts } from './alerts/service.ts';
import { backupOwnerEmailIn } from './backups/service.ts';
import { openReviewAssignments } from './reviews/service.ts';
import { tenantInTransaction } from './tenants/service.ts';

/**
 * Duties that need a new owner when a person is offboarded (see access/duties.ts). A capability whose settings
 * or records name a person registers a source here.
 */
export function registerDutySources(): void {
  registerDutySource({
    name: 'backups.owner',
    async list(tx, tenantId, userId) {
      const email = await personEmail(tx, tenantId, userId);
      const owner = await backupOwnerEmailIn(tx);
      if (!email || owner?.toLowerCase() !== email.toLowerCase()) return [];
      return [
        {
          capability: 'Backups',
          description: 'Backup owner of this installation (problem mail goes to them)',
          href: '/admin/backups',
        },
      ];
    },
  });
  registerDutySource({
    name: 'alerts.contacts',
    async list(tx, tenantId, userId) {
      const email = (await personEmail(tx, tenantId, userId))?.toLowerCase();
      if (!email) return [];
      const duties = [];
      if ((await configuredAlertContacts(tx, tenantId)).some((c) => c.toLowerCase() === email)) {
        duties.push({ capability: 'Alerts', description: 'Security contact for alert mail', href: '/admin/alerts/settings' });
      }
      if ((await tenantInTransaction(tx, tenantId))?.contactEmail?.toLowerCase() === email) {
        duties.push({
          capability: 'Workspace',
          description: 'The workspace’s public security contact (security.txt, alert mail by default)',
          href: '/admin',
        });
      }
      return duties;
    },
  });
  registerDutySource({ name: 'reviews.assignments', list: openReviewAssignments });
}
