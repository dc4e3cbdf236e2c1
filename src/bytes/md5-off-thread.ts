import { Worker } from 'node:worker_threads';

/**
 * The worker: one MD5 per body id, fed in order; the digest goes back when the
 * body ends. Plain JavaScript, evaluated as CommonJS, so it needs no build step.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', ({ id, data, end }) => {
  let hash = hashes.get(id);
  if (hash === undefined) hashes.set(id, (hash = createHash('md5')));
  if (data !== undefined) hash.update(new Uint8Array(data));
  if (end) {
    hashes.delete(id);
    parentPort.postMessage({ id, digest: hash.digest() });
  }
});
`;

/** Bytes gathered before they are handed to the worker: one copy and one message per MiB. */
const HANDOFF_BYTES = 1024 * 1024;

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (digest: Buffer) => void; reject: (error: Error) => void }>();

function hasher(): Worker {
  if (worker !== undefined) return worker;
  const started = new Worker(WORKER_SOURCE, { eval: true });
  // Idle, it must not keep the process alive.
  started.unref();
  started.on('message', ({ id, digest }: { id: number; digest: Uint8Array }) => {
    const pending = waiting.get(id);
    waiting.delete(id);
    pending?.resolve(Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength));
  });
  const fail = (error: Error) => {
    if (worker === started) worker = undefined;
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  };
  started.on('error', fail);
  started.on('exit', (code) => fail(new Error(`the MD5 worker exited with code ${code}`)));
  return (worker = started);
}

/**
 * An MD5 computed on a worker thread, as createHash('md5') would compute it.
 * Hashing runs at ~600 MB/s on one core: on the event loop it would cap every
 * upload that needs a digest (Put Blob, Put Range) there, and hold up every
 * other request meanwhile.
 */
export class OffThreadMd5 {
  private readonly id = nextId++;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;

  update(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= HANDOFF_BYTES) this.handOff(false);
  }

  /** The digest of everything updated; the hash cannot be updated after. */
  digest(): Promise<Buffer> {
    const result = new Promise<Buffer>((resolve, reject) => waiting.set(this.id, { resolve, reject }));
    this.handOff(true);
    return result;
  }

  /** Frees the worker's state for a body that will never be finished. */
  abandon(): void {
    if (this.ended) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.handOff(true);
  }

  private handOff(end: boolean): void {
    this.ended = end;
    let data: ArrayBuffer | undefined;
    if (this.pendingBytes > 0) {
      // One copy into memory of its own (never Node's shared pool), which then moves to the worker as is.
      const joined = Buffer.allocUnsafeSlow(this.pendingBytes);
      let offset = 0;
      for (const chunk of this.pending) offset += chunk.copy(joined, offset);
      data = joined.buffer as ArrayBuffer;
    }
    this.pending = [];
    this.pendingBytes = 0;
    hasher().postMessage({ id: this.id, data, end }, data === undefined ? [] : [data]);
  }
}
