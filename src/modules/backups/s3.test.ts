import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app.ts';
import { runCandor } from '../../../test/cli.ts';
import { databaseUrl, testEngine } from '../../../test/db.ts';
import { TEST_MASTER_KEY_BASE64, testMasterKey } from '../../../test/keys.ts';
import { bufferedIO } from '../../platform/cli/io.ts';
import { startTestS3Server, TEST_S3_CREDENTIALS, type TestS3Server } from '../../platform/storage/testing/s3-server.ts';
import { restoreBackup } from './restore.ts';
import { type BackupRow, runBackup, verifyStoredBackups } from './service.ts';
import { archiveStorage } from './storage.ts';

let s3: TestS3Server;
let t: TestApp;
let work: string;
let row: BackupRow;
let scratch: string | undefined;
let s3Env: Record<string, string>;

beforeAll(async () => {
  s3 = await startTestS3Server(['backups']);
  s3Env = {
    CANDOR_BACKUP_S3_ENDPOINT: s3.endpoint,
    CANDOR_BACKUP_S3_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
    CANDOR_BACKUP_S3_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
  };
  Object.assign(process.env, s3Env); // read when the runtime first writes to S3
  t = await createTestApp();
  work = mkdtempSync(path.join(tmpdir(), 'candor-backup-s3-'));
  // Larger than one 16 MiB upload part: the archive goes up as a multipart upload.
  await t.runtime.db.withTenant(t.tenant.id, (tx) =>
    t.runtime.blobs.put(tx, t.tenant.id, randomBytes(20 * 1024 * 1024), {
      category: 'evidence',
      contentType: 'application/octet-stream',
    }),
  );
  row = await runBackup(t.runtime, { trigger: 'cli', destination: 's3://backups/nightly/acme' });
}, 120_000);

afterAll(async () => {
  await t.close();
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
  if (scratch) {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${scratch} with (force)`);
    await admin.end();
  }
});

describe('backups in S3', () => {
  it('uploads the archive under the prefix, visible only once complete', async () => {
    expect(row.status).toBe('ok');
    expect(row.location).toMatch(/^s3:\/\/backups\/nightly\/acme\/candor-backup-\d{8}T\d{6}Z-[0-9a-f]{8}\.cbk$/);
    expect(row.size).toBeGreaterThan(20 * 1024 * 1024);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: TEST_S3_CREDENTIALS,
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: 'nightly/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([row.location?.replace('s3://backups/', '')]);
  });

  it('is verified by the command line straight from S3', async () => {
    const result = await runCandor(['backup', 'verify', row.location as string], {
      ...s3Env,
      CANDOR_MASTER_KEY: TEST_MASTER_KEY_BASE64,
      CANDOR_DATA_DIR: path.join(work, 'none'),
    });
    expect(result.stderr).not.toContain('candor:');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/: OK: .*manifest authenticated with the master key/);
  }, 60_000);

  it('restores from S3', async () => {
    let target: { kind: 'data-dir'; dir: string } | { kind: 'postgres'; url: string };
    if (testEngine === 'postgres') {
      scratch = `candor_s3_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`create database ${scratch}`);
      await admin.end();
      target = { kind: 'postgres', url: databaseUrl(process.env.TEST_DATABASE_URL as string, scratch) };
    } else target = { kind: 'data-dir', dir: path.join(work, 'restored') };
    const report = await restoreBackup({
      location: row.location as string,
      target,
      key: { provider: testMasterKey },
      blobSettings: { kind: 'local', dir: path.join(work, 'restored-blobs') },
      dataDir: path.join(work, 'restored-data'),
      storage: archiveStorage(),
      io: bufferedIO(),
    });
    expect(report.blobs).toBe(1);
    expect(report.rowCounts).toEqual(row.rowCounts);
  }, 120_000);

  it('is marked missing by the daily verification once the object is gone', async () => {
    expect((await verifyStoredBackups(t.runtime)).failed).toEqual([]);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: TEST_S3_CREDENTIALS,
    });
    await client.send(new DeleteObjectCommand({ Bucket: 'backups', Key: row.location?.replace('s3://backups/', '') }));
    const summary = await verifyStoredBackups(t.runtime);
    expect(summary.failed).toEqual([{ id: row.id, status: 'missing', detail: `${row.location} does not exist` }]);
  }, 60_000);
});
