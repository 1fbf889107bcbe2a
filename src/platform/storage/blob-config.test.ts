import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCandor, tempDataDir } from '../../../test/cli.ts';
import { ConfigError, loadConfig } from '../../config.ts';

describe('blob store settings', () => {
  it('stores files under the data directory by default, or in CANDOR_BLOB_DIR', () => {
    expect(loadConfig({}).blobs).toEqual({ kind: 'local', dir: undefined });
    expect(loadConfig({ CANDOR_BLOB_DIR: 'files' }).blobs).toEqual({ kind: 'local', dir: path.resolve('files') });
  });

  it('reads S3 settings, with path-style on by default for a custom endpoint and the prefix trimmed', () => {
    const config = loadConfig({
      CANDOR_BLOB_STORE: 's3',
      CANDOR_S3_BUCKET: 'candor-files',
      CANDOR_S3_PREFIX: '/prod/blobs/',
      CANDOR_S3_ENDPOINT: 'http://minio.internal:9000',
      CANDOR_S3_BUCKET_PER_TENANT: 'candor-{tenant}',
    });
    expect(config.blobs).toEqual({
      kind: 's3',
      bucket: 'candor-files',
      prefix: 'prod/blobs',
      endpoint: 'http://minio.internal:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      bucketPerTenant: 'candor-{tenant}',
    });
    const aws = loadConfig({ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'candor-files', CANDOR_S3_REGION: 'eu-central-1' });
    expect(aws.blobs).toMatchObject({ forcePathStyle: false, region: 'eu-central-1', prefix: '', endpoint: undefined });
    const forced = loadConfig({ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'b-1', CANDOR_S3_FORCE_PATH_STYLE: 'true' });
    expect(forced.blobs).toMatchObject({ forcePathStyle: true });
  });

  it.each([
    [{ CANDOR_BLOB_STORE: 'ftp' }, /^CANDOR_BLOB_STORE: /],
    [{ CANDOR_BLOB_STORE: 's3' }, /^CANDOR_S3_BUCKET: is required when CANDOR_BLOB_STORE=s3$/],
    [{ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'Not_A_Bucket' }, /^CANDOR_S3_BUCKET: must be a bucket name/],
    [{ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'ok-bucket', CANDOR_S3_PREFIX: 'a/../b' }, /^CANDOR_S3_PREFIX: /],
    [{ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'ok-bucket', CANDOR_S3_ENDPOINT: 'minio:9000' }, /^CANDOR_S3_ENDPOINT: /],
    [{ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'ok-bucket', CANDOR_S3_BUCKET_PER_TENANT: 'candor' }, /contain \{tenant\}/],
    [
      {
        CANDOR_BLOB_STORE: 's3',
        CANDOR_S3_BUCKET: 'ok-bucket',
        CANDOR_S3_BUCKET_PER_TENANT: `a-much-too-long-bucket-name-{tenant}`,
      },
      /^CANDOR_S3_BUCKET_PER_TENANT: must give a valid bucket name/,
    ],
    [
      { CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'ok-bucket', CANDOR_S3_FORCE_PATH_STYLE: 'yes' },
      /^CANDOR_S3_FORCE_PATH_STYLE: /,
    ],
    [{ CANDOR_BLOB_STORE: 's3', CANDOR_S3_BUCKET: 'ok-bucket', CANDOR_BLOB_DIR: '/srv/files' }, /^CANDOR_BLOB_DIR: is set but/],
    [{ CANDOR_S3_BUCKET: 'forgot-the-switch' }, /^CANDOR_S3_BUCKET: is set but CANDOR_BLOB_STORE is not s3/],
  ])('refuses %j with a one-line reason', (env, reason) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toContain('\n');
  });

  it('makes the candor command exit with that one line before touching anything', async () => {
    const dataDir = tempDataDir();
    const result = await runCandor(['tenant', 'list'], { CANDOR_DATA_DIR: dataDir, CANDOR_BLOB_STORE: 's3' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('CANDOR_S3_BUCKET: is required when CANDOR_BLOB_STORE=s3');
    expect(existsSync(dataDir)).toBe(false);
  });
});
