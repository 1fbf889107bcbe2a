import type { Reencryptable } from '../platform/crypto/reencryption.ts';
import { contactEncryptedColumns } from './contact/service.ts';
import { documentRequestEncryptedColumns } from './document-requests/sealing.ts';
import { mfaEncryptedColumns } from './mfa/service.ts';
import { siemEncryptedColumns } from './siem/service.ts';
import { ssoEncryptedColumns } from './sso/service.ts';
import { subscriptionEncryptedColumns } from './subscriptions/service.ts';

/**
 * Every capability's encrypted columns (and stores), registered with the keyring once per process: a data-key
 * rotation re-encrypts them, `candor keys status` and /admin/keys count what is left on older versions.
 */
export function moduleEncryptedColumns(): Reencryptable[] {
  return [
    ...siemEncryptedColumns,
    ...ssoEncryptedColumns,
    ...mfaEncryptedColumns,
    ...subscriptionEncryptedColumns,
    ...contactEncryptedColumns,
    ...documentRequestEncryptedColumns,
  ];
}
