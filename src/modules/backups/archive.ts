import { createCipheriv, createDecipheriv, createHash, createHmac, type Hash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../../platform/audit/canonical.ts';
import { Manifest, type ManifestBody } from './schema.ts';

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

export const CHUNK_BYTES = 1024 * 1024;
export const FORMAT_VERSION = 1;
const TAG_BYTES = 16;
const MAGIC = Buffer.from('CANDORBK', 'ascii');
const TRAILER_MAGIC = Buffer.from('CBKTRAIL', 'ascii');
const HEADER_BYTES = 16;
const TRAILER_BYTES = 8 + 32 + 8;
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
const MAX_NAME_BYTES = 1024;
const RECORD = { part: 0x50, chunk: 0x43, final: 0x46, manifest: 0x4d } as const;

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

/** Part index and chunk index: unique per chunk of an archive, and an archive key is never reused. */
function chunkNonce(partIndex: number, chunkIndex: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(partIndex, 0);
  nonce.writeUInt32BE(Math.floor(chunkIndex / 2 ** 32), 4);
  nonce.writeUInt32BE(chunkIndex % 2 ** 32, 8);
  return nonce;
}

/** Binds a chunk to its part's name and says whether it is the last: a renamed or cut part fails to open. */
function chunkAad(partName: string, final: boolean): Buffer {
  return Buffer.from(`candor-backup/v1\0${partName}\0${final ? 1 : 0}`);
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

/** Where archive bytes go: a file or an upload. Resolves once it can take more. */
export interface ArchiveSink {
  write(bytes: Buffer): Promise<void>;
}

export interface PartDigest {
  name: string;
  storedSize: number;
  sha256: string;
}

function recordHeader(kind: number, length: number): Buffer {
  const header = Buffer.alloc(5);
  header[0] = kind;
  header.writeUInt32BE(length, 1);
  return header;
}

/** Writes one archive: `start`, any number of `addPart`, then `finish` with the manifest's other fields. */
export class ArchiveWriter {
  private offset = 0;
  private readonly parts: PartDigest[] = [];

  constructor(
    private readonly sink: ArchiveSink,
    private readonly keys: ArchiveKeys,
  ) {}

  /** Bytes written so far. */
  get size(): number {
    return this.offset;
  }

  private async emit(bytes: Buffer, hash?: Hash): Promise<void> {
    hash?.update(bytes);
    this.offset += bytes.length;
    await this.sink.write(bytes);
  }

  async start(): Promise<void> {
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeUInt32BE(FORMAT_VERSION, 8);
    await this.emit(header);
  }

  /**
   * Streams `source` into the archive as one part, encrypted in 1 MiB chunks. `onPlaintext` sees each
   * piece of plaintext as it goes by (progress, a digest of the source).
   */
  async addPart(
    name: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    onPlaintext?: (bytes: Uint8Array) => void,
  ): Promise<PartDigest> {
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.length === 0 || nameBytes.length > MAX_NAME_BYTES) throw new Error(`part name ${name} is empty or too long`);
    if (this.parts.some((p) => p.name === name)) throw new Error(`part ${name} is already in the archive`);
    const partIndex = this.parts.length;
    const hash = createHash('sha256');
    const startOffset = this.offset;
    const nameRecord = Buffer.alloc(3 + nameBytes.length);
    nameRecord[0] = RECORD.part;
    nameRecord.writeUInt16BE(nameBytes.length, 1);
    nameBytes.copy(nameRecord, 3);
    await this.emit(nameRecord, hash);

    let chunkIndex = 0;
    let pending: Buffer | undefined;
    let filled = 0;
    const seal = async (plaintext: Uint8Array, final: boolean) => {
      const cipher = createCipheriv('aes-256-gcm', this.keys.encryption, chunkNonce(partIndex, chunkIndex));
      cipher.setAAD(chunkAad(name, final));
      const body = cipher.update(plaintext);
      cipher.final();
      const tag = cipher.getAuthTag();
      await this.emit(recordHeader(final ? RECORD.final : RECORD.chunk, body.length + TAG_BYTES), hash);
      await this.emit(body, hash);
      await this.emit(tag, hash);
      chunkIndex++;
    };
    for await (const piece of source) {
      onPlaintext?.(piece);
      let at = 0;
      while (at < piece.length) {
        // A full chunk is sealed only when more bytes follow, so the last chunk is always the final one.
        if (filled === CHUNK_BYTES && pending) {
          await seal(pending, false);
          filled = 0;
        }
        if (filled === 0 && piece.length - at > CHUNK_BYTES) {
          // A whole chunk inside a large piece, with more after it: sealed where it lies, without a copy.
          await seal(piece.subarray(at, at + CHUNK_BYTES), false);
          at += CHUNK_BYTES;
          continue;
        }
        pending ??= Buffer.allocUnsafe(CHUNK_BYTES);
        const take = Math.min(CHUNK_BYTES - filled, piece.length - at);
        pending.set(piece.subarray(at, at + take), filled);
        filled += take;
        at += take;
      }
    }
    await seal(pending?.subarray(0, filled) ?? Buffer.alloc(0), true);
    const digest = { name, storedSize: this.offset - startOffset, sha256: hash.digest('hex') };
    this.parts.push(digest);
    return digest;
  }

  /** Writes the manifest (with the part list, the whole digest and the MAC) and the trailer. */
  async finish(body: ManifestBody): Promise<{ manifest: Manifest; size: number }> {
    const unsigned = { ...body, parts: this.parts, digest: wholeDigest(this.parts) };
    const manifest: Manifest = { ...unsigned, mac: manifestMac(this.keys.mac, unsigned) };
    const json = Buffer.from(JSON.stringify(manifest), 'utf8');
    const manifestOffset = this.offset;
    await this.emit(recordHeader(RECORD.manifest, json.length));
    await this.emit(json);
    const trailer = Buffer.alloc(TRAILER_BYTES);
    trailer.writeBigUInt64BE(BigInt(manifestOffset), 0);
    createHash('sha256').update(json).digest().copy(trailer, 8);
    TRAILER_MAGIC.copy(trailer, 40);
    await this.emit(trailer);
    return { manifest, size: this.offset };
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
