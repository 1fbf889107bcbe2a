import { Readable } from 'node:stream';
import type { ListObjectsV2CommandOutput, S3Client } from '@aws-sdk/client-s3';
import { type BlobDriver, BlobKeyRefused, type BlobObject, BlobObjectMissing, streamReader } from './blob-store.ts';
import { checkPrefix, isUuid, keySegments } from './keys.ts';

export interface S3Settings {
  /** The bucket for every object (shared mode), or for objects outside any tenant (bucket-per-tenant mode). */
  bucket: string;
  /** Key prefix inside the bucket(s), without leading or trailing `/`; '' for none. */
  prefix: string;
  /** An S3-compatible server (MinIO, Ceph, Garage...); unset for AWS. */
  endpoint: string | undefined;
  region: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key`: what most self-hosted servers need. */
  forcePathStyle: boolean;
  /** A bucket name template containing `{tenant}`: each tenant's objects live in a bucket of their own. */
  bucketPerTenant: string | undefined;
  /** Explicit credentials (tests); otherwise the SDK's standard chain (AWS_ACCESS_KEY_ID, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Objects per listing request (S3's maximum and default is 1000; tests use small pages). */
  pageSize?: number;
}

const TENANT_PLACEHOLDER = '{tenant}';
// Deleting a tenant's objects one request at a time works on every S3-compatible server (DeleteObjects
// needs checksums some of them reject); a few in flight keep it quick.
const DELETE_CONCURRENCY = 8;

function errorName(error: unknown): string | undefined {
  return (error as { name?: unknown } | null)?.name as string | undefined;
}

function isMissing(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Yields two key-ordered streams as one key-ordered stream. */
async function* mergeByKey(a: AsyncIterable<BlobObject>, b: AsyncIterable<BlobObject>): AsyncGenerator<BlobObject> {
  const left = a[Symbol.asyncIterator]();
  const right = b[Symbol.asyncIterator]();
  let l = await left.next();
  let r = await right.next();
  while (!l.done || !r.done) {
    if (!l.done && (r.done || l.value.key <= r.value.key)) {
      yield l.value;
      l = await left.next();
    } else if (!r.done) {
      yield r.value;
      r = await right.next();
    }
  }
}

/**
 * Blobs in S3 or an S3-compatible server: `<prefix>/<tenantId>/<blobId>` in one bucket, or the same keys
 * in a bucket per tenant (created on first write, removed with the tenant). A PUT is atomic in S3, so
 * readers see the old object or the new one. The SDK is loaded only when this driver is configured.
 */
export async function createS3Driver(settings: S3Settings): Promise<BlobDriver> {
  const sdk = await import('@aws-sdk/client-s3');
  const client: S3Client = new sdk.S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // Our own SHA-256 covers integrity; the SDK's newer default checksums are not understood by every
    // S3-compatible server, so they are sent and checked only where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    maxAttempts: 3,
  });
  const keyPrefix = settings.prefix ? `${settings.prefix}/` : '';
  const template = settings.bucketPerTenant;
  const tenantBucketName = template
    ? new RegExp(`^${escapeRegExp(template).replace(escapeRegExp(TENANT_PLACEHOLDER), '([0-9a-f-]{36})')}$`)
    : undefined;
  const where = settings.endpoint ? ` at ${settings.endpoint}` : '';
  const location = `s3://${template ?? settings.bucket}/${settings.prefix}${where}`;

  function tenantBucket(tenantId: string): string {
    return (template as string).replace(TENANT_PLACEHOLDER, tenantId);
  }

  /** The bucket and object key of a key; the tenant's own bucket in bucket-per-tenant mode. */
  function target(key: string): { bucket: string; objectKey: string; tenantBucket: boolean } {
    const [first] = keySegments(key);
    const ownBucket = template !== undefined && first !== undefined && isUuid(first);
    return {
      bucket: ownBucket ? tenantBucket(first) : settings.bucket,
      objectKey: `${keyPrefix}${key}`,
      tenantBucket: ownBucket,
    };
  }

  async function createBucket(bucket: string): Promise<void> {
    try {
      await client.send(
        new sdk.CreateBucketCommand({
          Bucket: bucket,
          // Outside us-east-1, AWS wants the region spelled out.
          ...(settings.region !== 'us-east-1' && !settings.endpoint
            ? { CreateBucketConfiguration: { LocationConstraint: settings.region as 'eu-west-1' } }
            : {}),
        }),
      );
    } catch (error) {
      const name = errorName(error);
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    }
  }

  async function getObject(key: string) {
    const { bucket, objectKey } = target(key);
    try {
      const answer = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: objectKey }));
      if (!answer.Body) throw new BlobObjectMissing(key, location);
      return answer.Body;
    } catch (error) {
      if (isMissing(error)) throw new BlobObjectMissing(key, location);
      throw error;
    }
  }

  async function* listBucket(bucket: string, prefix: string, optional: boolean): AsyncGenerator<BlobObject> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${keyPrefix}${prefix}`,
            ContinuationToken: token,
            ...(settings.pageSize ? { MaxKeys: settings.pageSize } : {}),
          }),
        );
      } catch (error) {
        if (optional && errorName(error) === 'NoSuchBucket') return; // a tenant that never stored anything
        throw error;
      }
      for (const object of page.Contents ?? []) {
        if (!object.Key?.startsWith(keyPrefix)) continue;
        const key = object.Key.slice(keyPrefix.length);
        try {
          keySegments(key);
        } catch {
          continue; // an object someone else put there under a name no key can have
        }
        yield { key, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Tenant ids that have a bucket, in order (bucket-per-tenant mode). */
  async function tenantsWithBuckets(): Promise<string[]> {
    const tenants: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.ListBucketsCommand({ ContinuationToken: token }));
      for (const bucket of page.Buckets ?? []) {
        const tenantId = tenantBucketName?.exec(bucket.Name ?? '')?.[1];
        if (tenantId && isUuid(tenantId)) tenants.push(tenantId);
      }
      token = page.ContinuationToken;
    } while (token);
    return tenants.sort();
  }

  async function* listTenantBuckets(prefix: string): AsyncGenerator<BlobObject> {
    for (const tenantId of await tenantsWithBuckets()) {
      if (`${tenantId}/`.startsWith(prefix)) yield* listBucket(tenantBucket(tenantId), `${tenantId}/`, true);
    }
  }

  async function* list(prefix: string): AsyncGenerator<BlobObject> {
    checkPrefix(prefix);
    const slash = prefix.indexOf('/');
    const first = slash === -1 ? undefined : prefix.slice(0, slash);
    if (!template) yield* listBucket(settings.bucket, prefix, false);
    else if (first !== undefined && isUuid(first)) yield* listBucket(tenantBucket(first), prefix, true);
    else yield* mergeByKey(listBucket(settings.bucket, prefix, false), listTenantBuckets(prefix));
  }

  async function deleteObject(key: string): Promise<void> {
    const { bucket, objectKey } = target(key);
    try {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: objectKey }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async function objectStream(key: string): Promise<Readable> {
    const body = await getObject(key);
    if (!(body instanceof Readable)) throw new Error(`S3 answered ${key} with a body that is not a Node stream`);
    return body;
  }

  return {
    kind: 's3',
    location,
    async write(key, bytes) {
      const { bucket, objectKey, tenantBucket: own } = target(key);
      const put = () =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: objectKey,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ContentType: 'application/octet-stream',
          }),
        );
      try {
        await put();
      } catch (error) {
        // A tenant's bucket is made on its first write.
        if (!own || errorName(error) !== 'NoSuchBucket') throw error;
        await createBucket(bucket);
        await put();
      }
    },
    async read(key) {
      const body = await getObject(key);
      const bytes = await body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    readStream: objectStream,
    openReader: async (key) => streamReader(await objectStream(key)),
    delete: deleteObject,
    list,
    async deletePrefix(prefix) {
      if (prefix === '') throw new BlobKeyRefused(prefix, 'refusing to delete the whole blob store');
      const keys: string[] = [];
      for await (const object of list(prefix)) keys.push(object.key);
      for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
        await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map(deleteObject));
      }
      const tenantId = prefix.endsWith('/') ? prefix.slice(0, -1) : undefined;
      if (template && tenantId && isUuid(tenantId)) {
        try {
          await client.send(new sdk.DeleteBucketCommand({ Bucket: tenantBucket(tenantId) }));
        } catch (error) {
          // Objects Candor did not write keep the bucket alive; that is the operator's call.
          const name = errorName(error);
          if (name !== 'NoSuchBucket' && name !== 'BucketNotEmpty') throw error;
        }
      }
      return keys.length;
    },
    // A PUT either lands whole or not at all: nothing is left behind.
    removeAbandonedWrites: async () => 0,
  };
}
