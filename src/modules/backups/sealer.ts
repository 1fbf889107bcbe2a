import { Worker } from 'node:worker_threads';
import { CHUNK_BYTES, RECORD_HEADER_BYTES, TAG_BYTES } from './chunk-format.mjs';

/*
 * Chunk sealing on a second thread. The archive writer reads or copies plaintext into a few shared slots; the
 * worker (seal-worker.mjs) encrypts each slot in place into a whole chunk record and keeps the part's SHA-256;
 * the writer then hands the slot's record to the sink and reuses the slot. Both cores work, and the main
 * thread, whose heap holds the whole application, allocates nothing per chunk: a gigabyte of short-lived
 * ciphertext buffers there cost more in garbage collection than the encryption itself.
 */

const SLOT_COUNT = 8;
const SLOT_BYTES = RECORD_HEADER_BYTES + CHUNK_BYTES + TAG_BYTES;

type Reply =
  | { kind: 'ok' }
  | { kind: 'sealed'; recordLength: number }
  | { kind: 'ended'; sha256: string }
  | { kind: 'failed'; message: string };

interface Waiting {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

export class ChunkSealer {
  private readonly worker: Worker;
  private readonly slots: Buffer[];
  private readonly free: number[];
  private readonly slotWaiters: (() => void)[] = [];
  private readonly replies: Waiting[] = [];
  private broken: Error | undefined;
  private closed = false;

  constructor(key: Buffer, slotCount = SLOT_COUNT) {
    const shared = Array.from({ length: slotCount }, () => new SharedArrayBuffer(SLOT_BYTES));
    this.slots = shared.map((memory) => Buffer.from(memory));
    this.free = this.slots.map((_, index) => index);
    this.worker = new Worker(new URL('./seal-worker.mjs', import.meta.url), { workerData: { key, slots: shared } });
    // Referenced only while a reply is awaited: an idle sealer never holds the process open.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the backup sealing thread stopped (exit code ${code})`)));
  }

  /** A free slot; waits while every slot is being sealed or written. */
  async acquire(): Promise<number> {
    for (;;) {
      if (this.broken) throw this.broken;
      const slot = this.free.pop();
      if (slot !== undefined) return slot;
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  release(slot: number): void {
    this.free.push(slot);
    this.slotWaiters.shift()?.();
  }

  /** Where a chunk's plaintext goes in a slot (up to CHUNK_BYTES). */
  body(slot: number): Buffer {
    return this.slotBuffer(slot).subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + CHUNK_BYTES);
  }

  /** The sealed record in a slot, valid until the slot is released. */
  record(slot: number, length: number): Buffer {
    return this.slotBuffer(slot).subarray(0, length);
  }

  async startPart(index: number, name: string, nameRecord: Buffer): Promise<void> {
    await this.request({ kind: 'part', index, name, nameRecord });
  }

  /** Seals `length` plaintext bytes in the slot's body; resolves with the record's length. */
  async seal(slot: number, chunk: number, length: number, final: boolean): Promise<number> {
    const reply = await this.request({ kind: 'chunk', slot, chunk, length, final });
    if (reply.kind !== 'sealed') throw new Error(`the sealing thread answered ${reply.kind} to a chunk`);
    return reply.recordLength;
  }

  /** Resolves with the part's SHA-256 as stored (its name record and chunk records). */
  async endPart(): Promise<string> {
    const reply = await this.request({ kind: 'end' });
    if (reply.kind !== 'ended') throw new Error(`the sealing thread answered ${reply.kind} to the end of a part`);
    return reply.sha256;
  }

  /** Stops the thread; anything still asked of it fails rather than waits. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
    this.fail(new Error('the backup sealing thread was closed'));
  }

  private slotBuffer(slot: number): Buffer {
    const buffer = this.slots[slot];
    if (!buffer) throw new Error(`no slot ${slot}`);
    return buffer;
  }

  private request(message: Record<string, unknown>): Promise<Reply> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<Reply>((resolve, reject) => {
      this.replies.push({ resolve, reject });
      if (this.replies.length === 1) this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  private settle(reply: Reply): void {
    const waiting = this.replies.shift();
    if (this.replies.length === 0) this.worker.unref();
    if (reply.kind === 'failed') waiting?.reject(new Error(`sealing a backup chunk failed: ${reply.message}`));
    else waiting?.resolve(reply);
  }

  private fail(error: Error): void {
    this.broken ??= this.closed ? new Error('the backup sealing thread was closed') : error;
    for (const waiting of this.replies.splice(0)) waiting.reject(this.broken);
    for (const wake of this.slotWaiters.splice(0)) wake();
  }
}
