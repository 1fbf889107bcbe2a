import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArchiveSink } from './archive.ts';
import { isS3Url } from './schema.ts';

/** A directory, or an S3 bucket and key prefix. */
export type BackupDestination = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

/** The archive a location names does not exist (deleted, moved, or never uploaded). */
export class ArchiveMissing extends Error {
  override name = 'ArchiveMissing';
}

/** `s3://bucket/prefix` or a directory (relative to `cwd`). */
export function parseDestination(text: string, cwd = process.cwd()): BackupDestination {
  if (text.startsWith('s3://')) {
    if (!isS3Url(text)) throw new Error(`${text} is not an s3://bucket/prefix URL`);
    const [bucket = '', ...rest] = text.slice(5).split('/');
    const prefix = rest.filter(Boolean).join('/');
    return { kind: 's3', bucket, prefix: prefix ? `${prefix}/` : '' };
  }
  return { kind: 'local', dir: path.resolve(cwd, text) };
}

export function describeDestination(destination: BackupDestination): string {
  return destination.kind === 'local' ? destination.dir : `s3://${destination.bucket}/${destination.prefix}`.replace(/\/$/, '');
}

/** `candor-backup-20250131T023000Z-1a2b3c4d.cbk`: sorts by time, unique by id. */
export function archiveFileName(createdAt: Date, id: string): string {
  const stamp = createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `candor-backup-${stamp}-${id.slice(0, 8)}.cbk`;
}

/** An archive being written: nothing appears at its location until `commit`. */
export interface ArchiveUpload extends ArchiveSink {
  /** Makes the archive visible and returns its location (a path or `s3://bucket/key`). */
  commit(): Promise<string>;
  /** Removes whatever was written. */
  abort(): Promise<void>;
}

export interface ArchiveStorage {
  /** S3 client for s3:// locations (created on first use). */
  s3(): Promise<S3Client>;
}

export async function openUpload(
  storage: ArchiveStorage,
  destination: BackupDestination,
  fileName: string,
): Promise<ArchiveUpload> {
  if (destination.kind === 'local') return openLocalUpload(destination.dir, fileName);
  return openS3Upload(await storage.s3(), destination.bucket, `${destination.prefix}${fileName}`);
}

/** Writes to a hidden temporary file beside the target, then flushes and renames it into place. */
async function openLocalUpload(dir: string, fileName: string): Promise<ArchiveUpload> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = path.join(dir, fileName);
  const temporary = path.join(dir, `.${fileName}.partial`);
  const handle = await open(temporary, 'wx', 0o600);
  return {
    async write(bytes) {
      // One write at a time, in order (the writer queues them); resolves once the bytes are in the file.
      for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
    },
    async commit() {
      await handle.sync();
      await handle.close();
      await rename(temporary, target);
      await syncDirectory(dir);
      return target;
    },
    async abort() {
      await handle.close().catch(() => {});
      await unlink(temporary).catch(() => {});
    },
  };
}

/** A rename is durable once its directory is flushed. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// S3 needs parts of at least 5 MiB (except the last); 16 MiB keeps the request count low for large archives.
const S3_PART_BYTES = 16 * 1024 * 1024;

/** Uploads in parts as the archive streams; the object exists only once the upload is completed. */
async function openS3Upload(client: S3Client, bucket: string, key: string): Promise<ArchiveUpload> {
  const s3 = await import('@aws-sdk/client-s3');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let uploadId: string | undefined;
  const etags: { ETag: string; PartNumber: number }[] = [];

  const sendPart = async (body: Buffer) => {
    if (!uploadId) {
      const created = await client.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      uploadId = created.UploadId;
      if (!uploadId) throw new Error(`s3://${bucket}/${key}: the server started no upload`);
    }
    const PartNumber = etags.length + 1;
    const sent = await client.send(
      new s3.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }),
    );
    etags.push({ ETag: sent.ETag ?? '', PartNumber });
  };
  const takePending = () => {
    const body = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return body;
  };

  return {
    async write(bytes) {
      pending.push(Buffer.from(bytes)); // a copy: the writer reuses the memory it passes
      pendingBytes += bytes.length;
      if (pendingBytes >= S3_PART_BYTES) await sendPart(takePending());
    },
    async commit() {
      if (!uploadId) {
        // Small archives go up in one request.
        await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: takePending() }));
      } else {
        if (pendingBytes > 0) await sendPart(takePending());
        await client.send(
          new s3.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: etags },
          }),
        );
      }
      return `s3://${bucket}/${key}`;
    },
    async abort() {
      pending = [];
      if (uploadId) {
        await client.send(new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
      }
    },
  };
}

function parseS3Location(location: string): { bucket: string; key: string } {
  const [bucket = '', ...rest] = location.slice(5).split('/');
  return { bucket, key: rest.join('/') };
}

function isMissingObject(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/** The archive's bytes as a stream; ArchiveMissing when nothing is there. */
export async function readArchive(storage: ArchiveStorage, location: string): Promise<AsyncIterable<Uint8Array>> {
  if (!location.startsWith('s3://')) {
    try {
      const info = await stat(location);
      if (!info.isFile()) throw new ArchiveMissing(`${location} is not a file`);
    } catch (error) {
      if (error instanceof ArchiveMissing) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ArchiveMissing(`${location} does not exist`);
      throw new Error(`cannot read ${location} (${code ?? 'error'})`);
    }
    return createReadStream(location, { highWaterMark: 4 * 1024 * 1024 });
  }
  const s3 = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Location(location);
  try {
    const object = await (await storage.s3()).send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
    return object.Body as Readable;
  } catch (error) {
    if (isMissingObject(error)) throw new ArchiveMissing(`${location} does not exist`);
    throw error;
  }
}

/** Reads bytes `start` to `end` (exclusive) of an archive, and its total size: the manifest sits at its end. */
export async function archiveRangeReader(
  storage: ArchiveStorage,
  location: string,
): Promise<{ size: number; read(start: number, end: number): Promise<Buffer> }> {
  if (!location.startsWith('s3://')) {
    let size: number;
    try {
      size = (await stat(location)).size;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ArchiveMissing(`${location} does not exist`);
      throw new Error(`cannot read ${location} (${code ?? 'error'})`);
    }
    return {
      size,
      // Reads are few and small: a descriptor per read rather than one held past this call.
      async read(start, end) {
        const handle = await open(location, 'r');
        try {
          const buffer = Buffer.alloc(Math.max(0, end - start));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
          return buffer.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      },
    };
  }
  const s3 = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Location(location);
  const client = await storage.s3();
  let size: number;
  try {
    size = (await client.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
  } catch (error) {
    if (isMissingObject(error)) throw new ArchiveMissing(`${location} does not exist`);
    throw error;
  }
  return {
    size,
    async read(start, end) {
      if (end <= start) return Buffer.alloc(0);
      const object = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    },
  };
}

export async function deleteArchive(storage: ArchiveStorage, location: string): Promise<void> {
  if (!location.startsWith('s3://')) {
    await unlink(location).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    return;
  }
  const s3 = await import('@aws-sdk/client-s3');
  const { bucket, key } = parseS3Location(location);
  await (await storage.s3()).send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/**
 * S3 settings for backup destinations, from the environment (docs/backups.md): an endpoint for
 * S3-compatible servers, a region, and credentials of their own or the AWS SDK's usual chain.
 */
export function archiveStorage(env: NodeJS.ProcessEnv = process.env): ArchiveStorage {
  let client: Promise<S3Client> | undefined;
  // Backup settings first; the blob store's S3 server (CANDOR_S3_*) serves as the default for where and how.
  const own = (name: string) => env[`CANDOR_BACKUP_S3_${name}`]?.trim() || undefined;
  const setting = (name: string) =>
    own(name) ??
    (['ENDPOINT', 'REGION', 'FORCE_PATH_STYLE'].includes(name) ? env[`CANDOR_S3_${name}`]?.trim() || undefined : undefined);
  return {
    s3() {
      client ??= import('@aws-sdk/client-s3').then(({ S3Client }) => {
        const endpoint = setting('ENDPOINT');
        const accessKeyId = setting('ACCESS_KEY_ID');
        const secretAccessKey = setting('SECRET_ACCESS_KEY');
        return new S3Client({
          region: setting('REGION') ?? env.AWS_REGION ?? 'us-east-1',
          ...(endpoint ? { endpoint } : {}),
          // S3-compatible servers (MinIO and the like) usually want bucket names in the path.
          forcePathStyle: ['on', 'true'].includes(setting('FORCE_PATH_STYLE') ?? (endpoint ? 'on' : 'off')),
          ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
          // Plain requests with a known length: understood by every S3-compatible server.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        });
      });
      return client;
    },
  };
}
