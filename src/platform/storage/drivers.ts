import path from 'node:path';
import type { BlobDriver } from './blob-store.ts';
import { createLocalDriver } from './local.ts';
import { createS3Driver, type S3Settings } from './s3.ts';

/** Where blobs go, as configured (CANDOR_BLOB_STORE and friends). */
export type BlobStoreSettings =
  | {
      kind: 'local';
      /** CANDOR_BLOB_DIR; unset means `<data directory>/blobs`. */
      dir: string | undefined;
    }
  | ({ kind: 's3' } & S3Settings);

export const DEFAULT_BLOB_SETTINGS: BlobStoreSettings = { kind: 'local', dir: undefined };

export function localBlobDir(settings: { dir: string | undefined }, dataDir: string): string {
  return settings.dir ?? path.join(dataDir, 'blobs');
}

export function openBlobDriver(settings: BlobStoreSettings, dataDir: string): Promise<BlobDriver> {
  if (settings.kind === 's3') return createS3Driver(settings);
  return Promise.resolve(createLocalDriver(localBlobDir(settings, dataDir)));
}
