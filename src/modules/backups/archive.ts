import { createDecipheriv, createHash, createHmac, type Hash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../../platform/audit/canonical.ts';
import { CHUNK_BYTES, chunkAad, chunkNonce, RECORD, RECORD_HEADER_BYTES, TAG_BYTES, writeRecordHeader } from './chunk-format.mjs';
import { Manifest, type ManifestBody } from './schema.ts';
import { ChunkSealer } from './sealer.ts';

/*
 * The archive container (docs/backups.md, "Format"): a header, then each part as a name record followed by
 * encrypted chunk records, then the manifest and a fixed-size trailer. Parts are written as they stream, so
 * nothing needs its size in advance (a pg_dump, a compressed data directory).
 *
 *   header    "CANDORBK" ‖ u32 version ‖ u32 0
 *   part      'P' ‖ u16 name length ‖ name (UTF-8)
 *   chunk     'C' (more follow) or 'F' (the part's last) ‖ u32 length ‖ AES-256-GCM ciphertext ‖ tag
 *   manifest  'M' ‖ u32 length ‖ JSON
 *   trailer   u64 manifest offset ‖ SHA-256 of the manifest JSON ‖ "CBKTRAIL"
 */

export { CHUNK_BYTES } from './chunk-format.mjs';
export const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('CANDORBK', 'ascii');
const TRAILER_MAGIC = Buffer.from('CBKTRAIL', 'ascii');
const HEADER_BYTES = 16;
const TRAILER_BYTES = 8 + 32 + 8;
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
const MAX_NAME_BYTES = 1024;

/** The archive is not what it should be; `part` names where, when known. */
export class ArchiveDamaged extends Error {
  override name = 'ArchiveDamaged';
  constructor(
    message: string,
    readonly part?: string,
  ) {
    super(message);
  }
}

export interface ArchiveKeys {
  encryption: Buffer;
  mac: Buffer;
}

/** Separate keys for the chunks and the manifest's MAC, both from the one random archive key. */
export function deriveArchiveKeys(archiveKey: Uint8Array, backupId: string): ArchiveKeys {
  const derive = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', archiveKey, Buffer.from(backupId), `candor-backup/v1/${purpose}`, 32));
  return { encryption: derive('chunks'), mac: derive('manifest-mac') };
}

export function manifestMac(key: Buffer, body: Omit<Manifest, 'mac'>): string {
  return createHmac('sha256', key)
    .update(canonicalJson(body as unknown as JsonValue))
    .digest('hex');
}

/** SHA-256 over the binary part digests in archive order: one value that stands for the whole archive. */
export function wholeDigest(parts: { sha256: string }[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(Buffer.from(part.sha256, 'hex'));
  return hash.digest('hex');
}

/** Where archive bytes go: a file or an upload. */
export interface ArchiveSink {
  /** Resolves once the sink is done with `bytes`: the writer reuses the memory afterwards. */
  write(bytes: Buffer): Promise<void>;
}

export interface PartDigest {
  name: string;
  storedSize: number;
  sha256: string;
}

/** A part as written, with what was learned of its plaintext on the way. */
export interface WrittenPart extends PartDigest {
  plaintextBytes: number;
  /** Only when the part was added with `digestPlaintext`. */
  plaintextSha256: string | undefined;
}

/** Fills the writer's buffers from their start; resolves with how many bytes came, 0 at the end. */
export interface PlaintextReader {
  readInto(into: Uint8Array): Promise<number>;
}

/** A part's plaintext: pieces of any size, or a reader that fills the writer's own buffers without copies. */
export type PartSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | PlaintextReader;

export interface PartOptions {
  /** Told how many plaintext bytes went by (progress). */
  onBytes?: ((count: number) => void) | undefined;
  /** Also compute the plaintext's SHA-256 (a stored blob is checked against its record). */
  digestPlaintext?: boolean | undefined;
}

function isReader(source: PartSource): source is PlaintextReader {
  return typeof (source as Partial<PlaintextReader>).readInto === 'function';
}

function recordHeader(kind: number, length: number): Buffer {
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  writeRecordHeader(header, kind, length);
  return header;
}

/**
 * Fills one part's chunks slot by slot. A full chunk is sealed only once more bytes follow, so the last
 * chunk is always the one marked final.
 */
class ChunkFiller {
  plaintextBytes = 0;
  private filled = 0;
  private chunk = 0;
  private readonly hash: Hash | undefined;

  constructor(
    private readonly writer: ArchiveWriter,
    private readonly sealer: ChunkSealer,
    private slot: number,
    private readonly options: PartOptions,
  ) {
    this.hash = options.digestPlaintext ? createHash('sha256') : undefined;
  }

  private took(count: number): void {
    this.filled += count;
    this.plaintextBytes += count;
    this.options.onBytes?.(count);
  }

  /** Hands the current slot to the sealing thread. */
  dispatch(final: boolean): void {
    this.hash?.update(this.sealer.body(this.slot).subarray(0, this.filled));
    this.writer.queueSealed(this.slot, this.filled, this.sealer.seal(this.slot, this.chunk++, this.filled, final));
  }

  async copy(piece: Uint8Array): Promise<void> {
    for (let at = 0; at < piece.length; ) {
      if (this.filled === CHUNK_BYTES) {
        this.dispatch(false);
        this.slot = await this.sealer.acquire();
        this.filled = 0;
      }
      const take = Math.min(CHUNK_BYTES - this.filled, piece.length - at);
      this.sealer.body(this.slot).set(piece.subarray(at, at + take), this.filled);
      this.took(take);
      at += take;
    }
  }

  async readFrom(reader: PlaintextReader): Promise<void> {
    for (;;) {
      if (this.filled < CHUNK_BYTES) {
        const count = await reader.readInto(this.sealer.body(this.slot).subarray(this.filled));
        if (count === 0) return;
        this.took(count);
        continue;
      }
      // Full: read ahead into a fresh slot to learn whether this chunk is the last.
      const next = await this.sealer.acquire();
      const count = await reader.readInto(this.sealer.body(next));
      if (count === 0) {
        this.sealer.release(next);
        return;
      }
      this.dispatch(false);
      this.slot = next;
      this.filled = 0;
      this.took(count);
    }
  }

  plaintextSha256(): string | undefined {
    return this.hash?.digest('hex');
  }
}

/**
 * Writes one archive: `start`, any number of `addPart`, then `finish` with the manifest's other fields (or
 * `close` to give up). Chunks are sealed on a second thread (sealer.ts) while earlier ones are written, and
 * sink writes happen one at a time in archive order.
 */
export class ArchiveWriter {
  private offset = 0;
  private readonly parts: PartDigest[] = [];
  private readonly names = new Set<string>();
  private readonly sealer: ChunkSealer;
  /** The queue of sink writes. It never rejects: the first failure is kept and thrown by the next call. */
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly sink: ArchiveSink,
    private readonly keys: ArchiveKeys,
  ) {
    this.sealer = new ChunkSealer(keys.encryption);
  }

  /** Bytes written (or queued) so far. */
  get size(): number {
    return this.offset;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Queues bytes for the sink once `ready` resolves with them; `done` runs after, whatever happened. */
  private queueWrite(ready: () => Promise<Buffer>, done?: () => void): void {
    this.writing = this.writing
      .then(async () => {
        if (this.failure === undefined) await this.sink.write(await ready());
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(done);
  }

  /** Queues bytes the writer owns. */
  private emit(bytes: Buffer): void {
    this.offset += bytes.length;
    this.queueWrite(async () => bytes);
  }

  async start(): Promise<void> {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32BE(FORMAT_VERSION, 8);
    this.emit(header);
  }

  /** Streams `source` into the archive as one part, encrypted in 1 MiB chunks. */
  async addPart(name: string, source: PartSource, options: PartOptions = {}): Promise<WrittenPart> {
    this.throwIfFailed();
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length === 0 || nameBytes.length > MAX_NAME_BYTES) throw new Error(`part name ${name} is empty or too long`);
    if (this.names.has(name)) throw new Error(`part ${name} is already in the archive`);
    this.names.add(name);
    const startOffset = this.offset;
    const nameRecord = Buffer.alloc(3 + nameBytes.length);
    nameRecord[0] = RECORD.part;
    nameRecord.writeUInt16BE(nameBytes.length, 1);
    nameBytes.copy(nameRecord, 3);
    // Not awaited: the worker takes messages in order, so the chunks below land in this part.
    const opened = this.sealer.startPart(this.parts.length, name, nameRecord);
    opened.catch(() => {}); // its failure is thrown below
    this.emit(nameRecord);

    const chunks = new ChunkFiller(this, this.sealer, await this.sealer.acquire(), options);
    if (isReader(source)) await chunks.readFrom(source);
    else for await (const piece of source) await chunks.copy(piece);
    chunks.dispatch(true);
    const sha256 = await this.sealer.endPart();
    await opened;
    this.throwIfFailed();
    const digest = { name, storedSize: this.offset - startOffset, sha256 };
    this.parts.push(digest);
    return { ...digest, plaintextBytes: chunks.plaintextBytes, plaintextSha256: chunks.plaintextSha256() };
  }

  /** Counts a sealed record and queues its write; the slot is released once the sink is done with it. */
  queueSealed(slot: number, length: number, sealed: Promise<number>): void {
    sealed.catch(() => {}); // awaited in its turn by the write queue
    this.throwIfFailed();
    this.offset += RECORD_HEADER_BYTES + length + TAG_BYTES;
    this.queueWrite(
      async () => this.sealer.record(slot, await sealed),
      () => this.sealer.release(slot),
    );
  }

  /** Writes the manifest (with the part list, the whole digest and the MAC) and the trailer. */
  async finish(body: ManifestBody): Promise<{ manifest: Manifest; size: number }> {
    this.throwIfFailed();
    const unsigned = { ...body, parts: this.parts, digest: wholeDigest(this.parts) };
    const manifest: Manifest = { ...unsigned, mac: manifestMac(this.keys.mac, unsigned) };
    const json = Buffer.from(JSON.stringify(manifest), 'utf8');
    const manifestOffset = this.offset;
    this.emit(recordHeader(RECORD.manifest, json.length));
    this.emit(json);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeBigUInt64BE(BigInt(manifestOffset), 0);
    createHash('sha256').update(json).digest().copy(trailer, 8);
    TRAILER_MAGIC.copy(trailer, 40);
    this.emit(trailer);
    await this.writing;
    await this.close();
    this.throwIfFailed();
    return { manifest, size: this.offset };
  }

  /** Stops the sealing thread (after `finish`, or to give up on the archive). */
  async close(): Promise<void> {
    await this.sealer.close();
  }
}

/** Reads exact byte counts from a stream of buffers of any size. */
class ByteReader {
  private readonly buffers: Buffer[] = [];
  private available = 0;
  private ended = false;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(private readonly iterator: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.available < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const piece = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      if (piece.length === 0) continue;
      this.buffers.push(piece);
      this.available += piece.length;
    }
    return this.available >= n;
  }

  /** Exactly `n` bytes, or undefined when the stream ends first. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    this.available -= n;
    this.offset += n;
    const first = this.buffers[0] as Buffer;
    if (first.length >= n) {
      if (first.length === n) this.buffers.shift();
      else this.buffers[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const head = this.buffers[0] as Buffer;
      const take = Math.min(head.length, n - at);
      head.copy(out, at, 0, take);
      at += take;
      if (take === head.length) this.buffers.shift();
      else this.buffers[0] = head.subarray(take);
    }
    return out;
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }
}

export interface ScannedPart {
  name: string;
  storedSize: number;
  sha256: string;
}

export interface ScanResult {
  parts: ScannedPart[];
  manifestJson: string;
  /** Whether the trailer's offset and SHA-256 agree with the manifest found. */
  trailerMatches: boolean;
  size: number;
}

/** What a reader does with each chunk (verification ignores them; restore decrypts them). */
export interface ChunkVisitor {
  partStart?(name: string, index: number): Promise<void> | void;
  chunk?(part: { name: string; index: number }, chunkIndex: number, sealed: Buffer, final: boolean): Promise<void> | void;
  partEnd?(part: ScannedPart): Promise<void> | void;
}

/**
 * Reads an archive from start to end, checking its structure and computing each part's SHA-256 as stored.
 * Throws ArchiveDamaged naming the part where the structure breaks or the bytes run out.
 */
export async function scanArchive(source: AsyncIterable<Uint8Array>, visitor: ChunkVisitor = {}): Promise<ScanResult> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  const header = await reader.read(HEADER_BYTES);
  if (!header?.subarray(0, 8).equals(MAGIC)) throw new ArchiveDamaged('not a Candor backup (its header is missing or wrong)');
  const version = header.readUInt32BE(8);
  if (version !== FORMAT_VERSION)
    throw new ArchiveDamaged(`backup format version ${version} is not supported (expected ${FORMAT_VERSION})`);

  const parts: ScannedPart[] = [];
  let current: { name: string; index: number; hash: Hash; start: number; chunks: number; finished: boolean } | undefined;
  /** Ends the current part where the next record begins. */
  const closePart = async (end: number) => {
    if (!current) return;
    if (!current.finished)
      throw new ArchiveDamaged(`part ${current.name}: damaged (it ends without its final chunk)`, current.name);
    const part = { name: current.name, storedSize: end - current.start, sha256: current.hash.digest('hex') };
    parts.push(part);
    current = undefined;
    await visitor.partEnd?.(part);
  };
  const truncated = () => {
    if (current && !current.finished) return new ArchiveDamaged(`truncated at part ${current.name}`, current.name);
    const last = current?.name ?? parts.at(-1)?.name;
    return new ArchiveDamaged(`truncated after ${last ? `part ${last}` : 'the header'}: the manifest is missing`);
  };

  for (;;) {
    const recordStart = reader.offset;
    const kind = await reader.read(1);
    if (!kind) throw truncated();
    const type = kind[0];
    if (type === RECORD.part) {
      await closePart(recordStart);
      const lengthBytes = await reader.read(2);
      const length = lengthBytes?.readUInt16BE(0);
      const nameBytes = length === undefined ? undefined : await reader.read(length);
      if (!lengthBytes || !nameBytes) throw truncated();
      const name = nameBytes.toString('utf8');
      current = { name, index: parts.length, hash: createHash('sha256'), start: recordStart, chunks: 0, finished: false };
      current.hash.update(kind).update(lengthBytes).update(nameBytes);
      await visitor.partStart?.(name, current.index);
    } else if (type === RECORD.chunk || type === RECORD.final) {
      if (!current || current.finished) {
        throw new ArchiveDamaged(`damaged at byte ${recordStart}: a chunk outside a part`, parts.at(-1)?.name);
      }
      const lengthBytes = await reader.read(4);
      if (!lengthBytes) throw truncated();
      const length = lengthBytes.readUInt32BE(0);
      const final = type === RECORD.final;
      const plausible = final ? length >= TAG_BYTES && length <= CHUNK_BYTES + TAG_BYTES : length === CHUNK_BYTES + TAG_BYTES;
      if (!plausible)
        throw new ArchiveDamaged(
          `part ${current.name}: damaged (a chunk of ${length} bytes at byte ${recordStart})`,
          current.name,
        );
      const sealed = await reader.read(length);
      if (!sealed) throw truncated();
      current.hash.update(kind).update(lengthBytes).update(sealed);
      await visitor.chunk?.(current, current.chunks, sealed, final);
      current.chunks++;
      current.finished = final;
    } else if (type === RECORD.manifest) {
      await closePart(recordStart);
      return readManifestAndTrailer(reader, recordStart, parts);
    } else {
      const where = current ? `part ${current.name}: damaged` : 'damaged';
      throw new ArchiveDamaged(`${where} (unexpected byte 0x${(type ?? 0).toString(16)} at byte ${recordStart})`, current?.name);
    }
  }
}

async function readManifestAndTrailer(reader: ByteReader, manifestOffset: number, parts: ScannedPart[]): Promise<ScanResult> {
  const lengthBytes = await reader.read(4);
  if (!lengthBytes) throw new ArchiveDamaged('truncated in the manifest');
  const length = lengthBytes.readUInt32BE(0);
  if (length > MAX_MANIFEST_BYTES) throw new ArchiveDamaged(`manifest: damaged (claims ${length} bytes)`);
  const json = await reader.read(length);
  if (!json) throw new ArchiveDamaged('truncated in the manifest');
  const trailer = await reader.read(TRAILER_BYTES);
  if (!trailer) throw new ArchiveDamaged('truncated after the manifest: the trailer is missing');
  if (!(await reader.atEnd())) throw new ArchiveDamaged(`damaged: unexpected bytes after the trailer (at byte ${reader.offset})`);
  const trailerMatches =
    trailer.subarray(40).equals(TRAILER_MAGIC) &&
    trailer.readBigUInt64BE(0) === BigInt(manifestOffset) &&
    trailer.subarray(8, 40).equals(createHash('sha256').update(json).digest());
  return { parts, manifestJson: json.toString('utf8'), trailerMatches, size: reader.offset };
}

export interface ManifestCheck {
  manifest?: Manifest;
  problems: string[];
}

/**
 * Compares what was read with what the manifest lists; every problem names its part. Needs no key: this is
 * what `backup verify` checks anywhere. The MAC is checked separately, with the archive key.
 */
export function checkAgainstManifest(scan: ScanResult): ManifestCheck {
  let raw: unknown;
  try {
    raw = JSON.parse(scan.manifestJson);
  } catch {
    return { problems: ['manifest: damaged (not valid JSON)'] };
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problems: [`manifest: damaged (${issue?.path.join('.') || 'value'} ${issue?.message ?? 'is invalid'})`] };
  }
  const manifest = parsed.data;
  const problems: string[] = [];
  if (!scan.trailerMatches)
    problems.push('manifest: SHA-256 mismatch with the trailer (the manifest or the trailer was altered)');
  const listed = new Map(manifest.parts.map((p) => [p.name, p]));
  for (const part of scan.parts) {
    const expected = listed.get(part.name);
    if (!expected) problems.push(`part ${part.name}: not listed in the manifest`);
    else if (expected.sha256 !== part.sha256 || expected.storedSize !== part.storedSize)
      problems.push(`part ${part.name}: SHA-256 mismatch`);
    listed.delete(part.name);
  }
  for (const name of listed.keys()) problems.push(`part ${name}: listed in the manifest but missing from the archive`);
  if (manifest.parts.map((p) => p.name).join('\n') !== scan.parts.map((p) => p.name).join('\n') && problems.length === 0) {
    problems.push('parts are not in the order the manifest lists');
  }
  if (wholeDigest(manifest.parts) !== manifest.digest)
    problems.push('manifest: the whole-archive digest does not match its parts');
  return { manifest, problems };
}

/** Whether the manifest's MAC holds under these keys (constant time). */
export function manifestAuthentic(manifest: Manifest, keys: ArchiveKeys): boolean {
  const { mac, ...body } = manifest;
  const expected = Buffer.from(manifestMac(keys.mac, body), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Opens chunks in order for one part; the final chunk must be the last one, or the part was cut short. */
export function chunkOpener(keys: ArchiveKeys) {
  return (part: { name: string; index: number }, chunkIndex: number, sealed: Buffer, final: boolean): Buffer => {
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, chunkNonce(part.index, chunkIndex));
    decipher.setAAD(chunkAad(part.name, final));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      const body = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
      decipher.final();
      return body;
    } catch {
      throw new ArchiveDamaged(
        `part ${part.name}: chunk ${chunkIndex} failed authentication (altered, or another key)`,
        part.name,
      );
    }
  };
}

/**
 * The manifest, read from the archive's end through its trailer without reading the parts (a restore needs
 * the wrapped key before the first chunk). Its part digests are still checked as the parts stream by.
 */
export async function peekManifest(archive: {
  size: number;
  read(start: number, end: number): Promise<Buffer>;
}): Promise<Manifest> {
  if (archive.size < HEADER_BYTES + TRAILER_BYTES) throw new ArchiveDamaged('truncated: too short to be a Candor backup');
  const header = await archive.read(0, HEADER_BYTES);
  if (!header.subarray(0, 8).equals(MAGIC)) throw new ArchiveDamaged('not a Candor backup (its header is missing or wrong)');
  const trailer = await archive.read(archive.size - TRAILER_BYTES, archive.size);
  if (!trailer.subarray(40).equals(TRAILER_MAGIC)) throw new ArchiveDamaged('truncated or damaged: the trailer is missing');
  const offset = Number(trailer.readBigUInt64BE(0));
  const end = archive.size - TRAILER_BYTES;
  if (offset < HEADER_BYTES || end - offset < 5 || end - offset > MAX_MANIFEST_BYTES)
    throw new ArchiveDamaged('damaged: the trailer points outside the archive');
  const record = await archive.read(offset, end);
  if (record[0] !== RECORD.manifest || record.readUInt32BE(1) !== record.length - 5)
    throw new ArchiveDamaged('damaged: the trailer does not point at the manifest');
  const json = record.subarray(5);
  if (!createHash('sha256').update(json).digest().equals(trailer.subarray(8, 40)))
    throw new ArchiveDamaged('manifest: SHA-256 mismatch with the trailer');
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch {
    throw new ArchiveDamaged('manifest: damaged (not valid JSON)');
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) throw new ArchiveDamaged('manifest: damaged (not a Candor backup manifest)');
  return parsed.data;
}
