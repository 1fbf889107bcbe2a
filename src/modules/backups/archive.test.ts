import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testMasterKey } from '../../../test/keys.ts';
import type { MasterKeyProvider } from '../../platform/crypto/master-key.ts';
import { localMasterKey } from '../../platform/crypto/master-key.ts';
import {
  ArchiveDamaged,
  type ArchiveSink,
  ArchiveWriter,
  CHUNK_BYTES,
  chunkOpener,
  deriveArchiveKeys,
  type PlaintextReader,
  peekManifest,
  scanArchive,
} from './archive.ts';
import { archiveKeyContext } from './backup.ts';
import type { ManifestBody } from './schema.ts';
import { verifyArchive } from './verify.ts';

interface Built {
  bytes: Buffer;
  id: string;
  parts: Record<string, Buffer>;
}

interface BuildOptions {
  master?: MasterKeyProvider;
  /** Where the bytes go (each call must copy what it keeps); by default they are kept in memory. */
  sink?: ArchiveSink;
  /** How parts are fed: uneven pieces as a file stream gives them, or a reader filling the writer's buffers. */
  feed?: 'pieces' | 'reader';
  id?: string;
  archiveKey?: Buffer;
}

/** Fills the writer's buffers in short, uneven reads, as a file read may. */
function unevenReader(content: Buffer): PlaintextReader {
  let at = 0;
  let turn = 0;
  return {
    async readInto(into) {
      const want = [70_000, 1, CHUNK_BYTES, 333_333][turn++ % 4] ?? 1;
      const take = Math.min(want, into.length, content.length - at);
      into.set(content.subarray(at, at + take));
      at += take;
      return take;
    },
  };
}

function pieces(content: Buffer): Buffer[] {
  return [content.subarray(0, 1000), content.subarray(1000, 70_000), content.subarray(70_000)];
}

async function buildArchive(parts: Record<string, Buffer>, options: BuildOptions = {}): Promise<Built> {
  const master = options.master ?? testMasterKey;
  const id = options.id ?? randomUUID();
  const archiveKey = options.archiveKey ?? randomBytes(32);
  const chunks: Buffer[] = [];
  const sink = options.sink ?? { write: async (b: Buffer) => void chunks.push(Buffer.from(b)) };
  const writer = new ArchiveWriter(sink, deriveArchiveKeys(archiveKey, id));
  try {
    await writer.start();
    for (const [name, content] of Object.entries(parts)) {
      await writer.addPart(name, options.feed === 'reader' ? unevenReader(content) : pieces(content));
    }
  } catch (error) {
    await writer.close();
    throw error;
  }
  const body: ManifestBody = {
    format: 'candor-backup',
    version: 1,
    id,
    candorVersion: 'test',
    engine: 'pglite',
    masterKeyId: master.id,
    wrappedKey: (await master.wrap(archiveKey, archiveKeyContext(id))).toString('base64'),
    // Fixed, so two builds with one key and id can be compared byte for byte.
    createdAt: '2026-11-22T00:00:00.000Z',
    chunkBytes: CHUNK_BYTES,
    database: { part: 'database.dump', format: 'pglite-data-dir.tar.gz', serverVersion: '17' },
    rowCounts: { tenants: 1 },
    blobs: [],
    files: [],
  };
  await writer.finish(body);
  return { bytes: Buffer.concat(chunks), id, parts };
}

/** Feeds the archive in 64 KiB pieces, like a file read. */
async function* stream(bytes: Buffer): AsyncIterable<Buffer> {
  for (let at = 0; at < bytes.length; at += 65_536) yield bytes.subarray(at, at + 65_536);
}

const rangeOf = (bytes: Buffer) => ({
  size: bytes.length,
  read: async (start: number, end: number) => bytes.subarray(start, end),
});

const sample = () => ({
  'database.dump': randomBytes(CHUNK_BYTES * 2 + 12_345),
  'blobs/a/one': randomBytes(CHUNK_BYTES), // exactly one chunk: the final flag must land on it
  'blobs/a/empty': Buffer.alloc(0),
  'blobs/b/two': randomBytes(80_000),
});

/** The byte offset of a part's name record, to damage a known part. */
function offsetOfPart(bytes: Buffer, name: string): number {
  const needle = Buffer.concat([Buffer.from([0x50, 0, name.length]), Buffer.from(name)]);
  const at = bytes.indexOf(needle);
  if (at < 0) throw new Error(`part ${name} not found`);
  return at;
}

describe('backup archive format', () => {
  it('verifies an intact archive with the master key and authenticates its manifest', async () => {
    const built = await buildArchive(sample());
    const report = await verifyArchive(stream(built.bytes), { master: testMasterKey });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.authenticated).toBe(true);
    expect(report.manifest?.parts.map((p) => p.name)).toEqual(Object.keys(built.parts));
    expect(report.size).toBe(built.bytes.length);
  });

  it('checks every part without a key, but says the manifest was not authenticated', async () => {
    const built = await buildArchive(sample());
    const report = await verifyArchive(stream(built.bytes));
    expect(report.ok).toBe(true);
    expect(report.authenticated).toBe(false);
  });

  it('decrypts every part back to its bytes, chunk by chunk in order', async () => {
    const built = await buildArchive(sample());
    const manifest = await peekManifest(rangeOf(built.bytes));
    const key = await testMasterKey.unwrap(Buffer.from(manifest.wrappedKey, 'base64'), archiveKeyContext(manifest.id));
    const open = chunkOpener(deriveArchiveKeys(key, manifest.id));
    const out: Record<string, Buffer[]> = {};
    await scanArchive(stream(built.bytes), {
      chunk(part, index, sealed, final) {
        out[part.name] ??= [];
        out[part.name]?.push(open(part, index, sealed, final));
      },
    });
    for (const [name, content] of Object.entries(built.parts)) {
      expect(
        createHash('sha256')
          .update(Buffer.concat(out[name] ?? []))
          .digest('hex'),
      ).toBe(createHash('sha256').update(content).digest('hex'));
    }
  });

  it('names the part whose byte was flipped', async () => {
    const built = await buildArchive(sample());
    const damaged = Buffer.from(built.bytes);
    const at = offsetOfPart(damaged, 'blobs/a/one') + 500;
    damaged[at] = (damaged[at] ?? 0) ^ 0x01;
    const report = await verifyArchive(stream(damaged), { master: testMasterKey });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(['part blobs/a/one: SHA-256 mismatch']);
  });

  it('names the part where a truncated archive ends', async () => {
    const built = await buildArchive(sample());
    const cut = built.bytes.subarray(0, offsetOfPart(built.bytes, 'blobs/b/two') + 2000);
    const report = await verifyArchive(stream(cut));
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toBe('truncated at part blobs/b/two');
  });

  it('says the manifest is missing when the archive ends after its last part', async () => {
    const built = await buildArchive(sample());
    const manifestAt = built.bytes.lastIndexOf(Buffer.from('{"format":"candor-backup"')) - 5;
    const report = await verifyArchive(stream(built.bytes.subarray(0, manifestAt)));
    expect(report.problems[0]).toBe('truncated after part blobs/b/two: the manifest is missing');
    await expect(peekManifest(rangeOf(built.bytes.subarray(0, manifestAt)))).rejects.toThrow(ArchiveDamaged);
  });

  it('refuses a manifest altered after the fact, with the master key, even when its trailer was fixed up', async () => {
    const built = await buildArchive(sample());
    const text = built.bytes.toString('latin1').replace('"rowCounts":{"tenants":1}', '"rowCounts":{"tenants":2}');
    const altered = Buffer.from(text, 'latin1');
    // Without a key the trailer's SHA-256 catches it …
    expect((await verifyArchive(stream(altered))).problems[0]).toMatch(/^manifest: SHA-256 mismatch/);
    // … and someone who also rewrites the trailer is still caught by the MAC.
    const manifestStart = altered.lastIndexOf(Buffer.from('{"format"'));
    const trailerStart = altered.length - 48;
    createHash('sha256')
      .update(altered.subarray(manifestStart, trailerStart))
      .digest()
      .copy(altered, trailerStart + 8);
    expect((await verifyArchive(stream(altered))).ok).toBe(true);
    const keyed = await verifyArchive(stream(altered), { master: testMasterKey });
    expect(keyed.problems).toEqual(['manifest: authentication failed (it was altered after the backup was made)']);
  });

  it('refuses another master key by naming both keys', async () => {
    const built = await buildArchive(sample());
    const other = localMasterKey(Buffer.alloc(32, 9), 'other.key');
    const report = await verifyArchive(stream(built.bytes), { master: other });
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toBe(
      `this backup was made with master key ${testMasterKey.id}; the key from other.key is ${other.id}`,
    );
  });

  it('lets the daily verification pass a backup made before a master key rotation, saying which key it needs', async () => {
    const built = await buildArchive(sample());
    const rotated = localMasterKey(Buffer.alloc(32, 5), 'new.key');
    const report = await verifyArchive(stream(built.bytes), { master: rotated, allowEarlierKey: true });
    expect(report).toMatchObject({ ok: true, authenticated: false, earlierKey: testMasterKey.id });
  });

  it('fails a chunk moved to another part or cut from its end when decrypting', async () => {
    const built = await buildArchive({ 'database.dump': randomBytes(CHUNK_BYTES + 10) });
    const manifest = await peekManifest(rangeOf(built.bytes));
    const key = await testMasterKey.unwrap(Buffer.from(manifest.wrappedKey, 'base64'), archiveKeyContext(manifest.id));
    const open = chunkOpener(deriveArchiveKeys(key, manifest.id));
    const sealed: Buffer[] = [];
    await scanArchive(stream(built.bytes), { chunk: (_p, _i, s) => void sealed.push(s) });
    const first = sealed[0] as Buffer;
    expect(() => open({ name: 'database.dump', index: 0 }, 0, first, false)).not.toThrow();
    // The same chunk presented as the part's last (a truncation), or under another name, does not open.
    expect(() => open({ name: 'database.dump', index: 0 }, 0, first, true)).toThrow(/chunk 0 failed authentication/);
    expect(() => open({ name: 'blobs/x', index: 0 }, 0, first, false)).toThrow(ArchiveDamaged);
    expect(() => open({ name: 'database.dump', index: 0 }, 1, first, false)).toThrow(ArchiveDamaged);
  });

  it('writes the same bytes whether a part is fed in pieces or read into the writer’s own buffers', async () => {
    const parts = { ...sample(), 'blobs/c/three': randomBytes(CHUNK_BYTES * 3) };
    const same = { id: randomUUID(), archiveKey: randomBytes(32) };
    const fromPieces = await buildArchive(parts, { ...same, feed: 'pieces' });
    const fromReader = await buildArchive(parts, { ...same, feed: 'reader' });
    // Everything but the wrapped key (wrapping is randomised) is the same.
    const partsOf = async (built: Built) => (await peekManifest(rangeOf(built.bytes))).parts;
    expect(await partsOf(fromReader)).toEqual(await partsOf(fromPieces));
    const manifestAt = fromPieces.bytes.lastIndexOf(Buffer.from('{"format"'));
    expect(fromReader.bytes.subarray(0, manifestAt).equals(fromPieces.bytes.subarray(0, manifestAt))).toBe(true);
    expect((await verifyArchive(stream(fromReader.bytes), { master: testMasterKey })).ok).toBe(true);
  });

  it('tells the plaintext size and SHA-256 of a part when asked, and only then', async () => {
    const writer = new ArchiveWriter({ write: async () => {} }, deriveArchiveKeys(randomBytes(32), randomUUID()));
    try {
      await writer.start();
      const content = randomBytes(CHUNK_BYTES + 5);
      const asked = await writer.addPart('blobs/asked', unevenReader(content), { digestPlaintext: true });
      expect(asked.plaintextBytes).toBe(content.length);
      expect(asked.plaintextSha256).toBe(createHash('sha256').update(content).digest('hex'));
      const counted: number[] = [];
      const unasked = await writer.addPart('blobs/unasked', pieces(content), { onBytes: (n) => counted.push(n) });
      expect(unasked.plaintextSha256).toBeUndefined();
      expect(counted.reduce((a, b) => a + b, 0)).toBe(content.length);
    } finally {
      await writer.close();
    }
  });

  it('keeps every chunk intact when the sink is slower than sealing (buffers are reused only once written)', async () => {
    const kept: Buffer[] = [];
    const slowSink: ArchiveSink = {
      async write(bytes) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        kept.push(Buffer.from(bytes));
      },
    };
    // More chunks than the writer has buffers.
    const parts = { 'database.dump': randomBytes(CHUNK_BYTES * 12 + 7) };
    await buildArchive(parts, { sink: slowSink, feed: 'reader' });
    const bytes = Buffer.concat(kept);
    const manifest = await peekManifest(rangeOf(bytes));
    const key = await testMasterKey.unwrap(Buffer.from(manifest.wrappedKey, 'base64'), archiveKeyContext(manifest.id));
    const open = chunkOpener(deriveArchiveKeys(key, manifest.id));
    const plain: Buffer[] = [];
    await scanArchive(stream(bytes), {
      chunk: (part, index, sealed, final) => void plain.push(open(part, index, sealed, final)),
    });
    expect(Buffer.concat(plain).equals(parts['database.dump'])).toBe(true);
  });

  it('stops with the sink’s error instead of writing on or waiting forever', async () => {
    let writes = 0;
    const failing: ArchiveSink = {
      async write() {
        if (++writes === 4) throw new Error('disk full');
      },
    };
    await expect(buildArchive({ 'database.dump': randomBytes(CHUNK_BYTES * 20) }, { sink: failing })).rejects.toThrow(
      'disk full',
    );
    expect(writes).toBe(4);
  });

  it('refuses a part after the writer was closed, rather than waiting for a stopped thread', async () => {
    const writer = new ArchiveWriter({ write: async () => {} }, deriveArchiveKeys(randomBytes(32), randomUUID()));
    await writer.start();
    await writer.close();
    await expect(writer.addPart('late', [Buffer.from('x')])).rejects.toThrow(/closed/);
  });

  it('rejects a file that is not a backup', async () => {
    const report = await verifyArchive(stream(Buffer.from('hello, this is not an archive at all')));
    expect(report.problems).toEqual(['not a Candor backup (its header is missing or wrong)']);
  });
});
