import { localMasterKey, type MasterKeyProvider } from '../src/platform/crypto/master-key.ts';

/** A fixed master key for tests: every test database of a run is wrapped by it. Never used outside tests. */
export const TEST_MASTER_KEY_BASE64 = Buffer.alloc(32, 7).toString('base64');
export const testMasterKey: MasterKeyProvider = localMasterKey(Buffer.from(TEST_MASTER_KEY_BASE64, 'base64'), 'test master key');
