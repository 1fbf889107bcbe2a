// @ts-check
// The backup writer's second thread (sealer.ts): encrypts chunks in shared slots and hashes each part as
// stored, so the main thread only moves bytes and its heap is not churned by a gigabyte of ciphertext.
// Every message gets exactly one reply, in order.
import { Buffer } from 'node:buffer';
import { createCipheriv, createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { chunkAad, chunkNonce, RECORD, RECORD_HEADER_BYTES, TAG_BYTES, writeRecordHeader } from './chunk-format.mjs';

/** @typedef {{ index: number, name: string, hash: import('node:crypto').Hash }} OpenPart */

const port = parentPort;
if (!port) throw new Error('seal-worker.mjs runs as a worker thread');
const key = Buffer.from(workerData.key);
/** @type {Buffer[]} */
const slots = workerData.slots.map((/** @type {SharedArrayBuffer} */ shared) => Buffer.from(shared));
/** @type {OpenPart | undefined} */
let part;
const STEP_BYTES = 256 * 1024;

/**
 * Seals the plaintext at the slot's body into a whole chunk record in place (header, ciphertext, tag) and
 * adds the record to the part's SHA-256. Encrypting a quarter mebibyte at a time keeps each piece of
 * ciphertext in cache while it is copied back and hashed.
 * @param {number} slot
 * @param {number} chunkIndex
 * @param {number} length
 * @param {boolean} final
 * @returns {number} the record's length
 */
function sealChunk(slot, chunkIndex, length, final) {
  const open = part;
  const buffer = slots[slot];
  if (!open || !buffer) throw new Error('a chunk outside a part');
  const plaintext = buffer.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + length);
  const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(open.index, chunkIndex));
  cipher.setAAD(chunkAad(open.name, final));
  writeRecordHeader(buffer, final ? RECORD.final : RECORD.chunk, length + TAG_BYTES);
  open.hash.update(buffer.subarray(0, RECORD_HEADER_BYTES));
  for (let at = 0; at < length; at += STEP_BYTES) {
    // GCM's output is as long as its input, so each piece goes back where its plaintext was.
    const sealed = cipher.update(plaintext.subarray(at, at + STEP_BYTES));
    sealed.copy(buffer, RECORD_HEADER_BYTES + at);
    open.hash.update(sealed);
  }
  cipher.final();
  const tag = cipher.getAuthTag();
  tag.copy(buffer, RECORD_HEADER_BYTES + length);
  open.hash.update(tag);
  return RECORD_HEADER_BYTES + length + TAG_BYTES;
}

/**
 * @param {{ kind: string, index: number, name: string, nameRecord: Uint8Array, slot: number, chunk: number, length: number, final: boolean }} message
 */
function handle(message) {
  switch (message.kind) {
    case 'part': {
      part = { index: message.index, name: message.name, hash: createHash('sha256').update(message.nameRecord) };
      return { kind: 'ok' };
    }
    case 'chunk':
      return { kind: 'sealed', recordLength: sealChunk(message.slot, message.chunk, message.length, message.final) };
    case 'end': {
      if (!part) throw new Error('no part is open');
      const ended = { kind: 'ended', sha256: part.hash.digest('hex') };
      part = undefined;
      return ended;
    }
    default:
      throw new Error(`unknown message ${message.kind}`);
  }
}

port.on('message', (message) => {
  try {
    port.postMessage(handle(message));
  } catch (error) {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
