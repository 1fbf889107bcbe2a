import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobDriver, BlobObject } from './blob-store.ts';
import { createS3Driver } from './s3.ts';
import { startTestS3Server, TEST_S3_CREDENTIALS, type TestS3Server } from './testing/s3-server.ts';

let server: TestS3Server;
let raw: S3Client;

beforeAll(async () => {
  server = await startTestS3Server(['shared', 'empty']);
  raw = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: TEST_S3_CREDENTIALS });
});
afterAll(async () => {
  raw?.destroy();
  await server?.stop();
});

async function rawKeys(bucket: string, prefix = ''): Promise<string[]> {
  const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function bucketNames(): Promise<string[]> {
  return ((await raw.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name ?? '');
}

async function listAll(driver: BlobDriver, prefix = ''): Promise<BlobObject[]> {
  const objects: BlobObject[] = [];
  for await (const object of driver.list(prefix)) objects.push(object);
  return objects;
}

describe('S3 blob driver layout', () => {
  it('stores each tenant under <prefix>/<tenantId>/ in the shared bucket, as sent', async () => {
    const driver = await createS3Driver(server.settings({ bucket: 'shared', prefix: 'candor/prod' }));
    const tenant = randomUUID();
    const blob = randomUUID();
    await driver.write(`${tenant}/${blob}`, Buffer.from('sealed'));
    expect(await rawKeys('shared', `candor/prod/${tenant}/`)).toEqual([`candor/prod/${tenant}/${blob}`]);
    const answer = await raw.send(new GetObjectCommand({ Bucket: 'shared', Key: `candor/prod/${tenant}/${blob}` }));
    expect(await answer.Body?.transformToString()).toBe('sealed');
    expect(driver.location).toBe(`s3://shared/candor/prod at ${server.endpoint}`);
  });

  it('lists nothing outside its prefix, nor objects under names no key can have', async () => {
    const prefix = `iso/${randomUUID()}`;
    const driver = await createS3Driver(server.settings({ bucket: 'shared', prefix }));
    const mine = `${randomUUID()}/${randomUUID()}`;
    await driver.write(mine, Buffer.from('mine'));
    await raw.send(new PutObjectCommand({ Bucket: 'shared', Key: `${prefix}-other/${randomUUID()}/x`, Body: 'neighbour' }));
    await raw.send(new PutObjectCommand({ Bucket: 'shared', Key: `${prefix}/odd name with spaces`, Body: 'foreign' }));
    expect((await listAll(driver)).map((o) => o.key)).toEqual([mine]);
  });

  it('creates a bucket for a tenant on its first write and removes it with the tenant', async () => {
    const driver = await createS3Driver(server.settings({ bucket: 'shared', prefix: 'blobs', bucketPerTenant: 'acme-{tenant}' }));
    const tenant = randomUUID();
    const blob = randomUUID();
    expect(await bucketNames()).not.toContain(`acme-${tenant}`);
    await driver.write(`${tenant}/${blob}`, Buffer.from('own bucket'));
    expect(await bucketNames()).toContain(`acme-${tenant}`);
    expect(await rawKeys(`acme-${tenant}`)).toEqual([`blobs/${tenant}/${blob}`]);
    expect(await rawKeys('shared', `blobs/${tenant}/`)).toEqual([]);
    expect(driver.location).toBe(`s3://acme-{tenant}/blobs at ${server.endpoint}`);

    expect(await driver.deletePrefix(`${tenant}/`)).toBe(1);
    expect(await bucketNames()).not.toContain(`acme-${tenant}`);
    // A tenant that never stored anything has no bucket: listing it is simply empty.
    expect(await listAll(driver, `${randomUUID()}/`)).toEqual([]);
  });

  it('names the missing bucket when the configured one does not exist', async () => {
    const driver = await createS3Driver(server.settings({ bucket: 'no-such-bucket' }));
    await expect(driver.write(`${randomUUID()}/${randomUUID()}`, Buffer.from('x'))).rejects.toThrow(/bucket/i);
    await expect(listAll(driver)).rejects.toThrow(/bucket/i);
  });
});
