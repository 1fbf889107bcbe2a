// @ts-check
// The chunk records of the archive format (docs/backups.md, "Format"), shared by the writer's sealing
// worker and the readers. Plain JavaScript because a worker thread cannot load TypeScript sources.
import { Buffer } from 'node:buffer';

export const CHUNK_BYTES = 1024 * 1024;
export const TAG_BYTES = 16;
/** A chunk record's kind byte and u32 length. */
export const RECORD_HEADER_BYTES = 5;
export const RECORD = Object.freeze({ part: 0x50, chunk: 0x43, final: 0x46, manifest: 0x4d });

/**
 * Part index and chunk index: unique per chunk of an archive, and an archive key is never reused.
 * @param {number} partIndex
 * @param {number} chunkIndex
 * @returns {Buffer}
 */
export function chunkNonce(partIndex, chunkIndex) {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(partIndex, 0);
  nonce.writeUInt32BE(Math.floor(chunkIndex / 2 ** 32), 4);
  nonce.writeUInt32BE(chunkIndex % 2 ** 32, 8);
  return nonce;
}

/**
 * Binds a chunk to its part's name and says whether it is the last: a renamed or cut part fails to open.
 * @param {string} partName
 * @param {boolean} final
 * @returns {Buffer}
 */
export function chunkAad(partName, final) {
  return Buffer.from(`candor-backup/v1\0${partName}\0${final ? 1 : 0}`);
}

/**
 * Writes a record's kind and length at the start of `target`.
 * @param {Buffer} target
 * @param {number} kind
 * @param {number} length
 */
export function writeRecordHeader(target, kind, length) {
  target[0] = kind;
  target.writeUInt32BE(length, 1);
}
