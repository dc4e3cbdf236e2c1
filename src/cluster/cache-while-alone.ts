import { asOfNow, type BlobStore } from '../db/blobs.js';
import type { BlobRecord, ContainerRecord } from '../db/records.js';
import { RecordCache } from '../db/record-cache.js';

/** The Blob store's methods that change nothing; any other method counts as a write. */
const READS = new Set<string>([
  'deletedOf',
  'getBlobProperties',
  'getContainer',
  'getSnapshot',
  'getVersion',
  'hasSnapshots',
  'hasVersion',
  'hiddenContainers',
  'historyNames',
  'inlineData',
  'listContainers',
  'pageRanges',
  'scanBlobs',
  'scanTaggedBlobs',
  'snapshotsOf',
  'someUncommittedBlockId',
  'uncommittedBlocks',
  'versionsOf',
]);

/**
 * A node's Blob store on PostgreSQL that answers the lookups of a blob and of
 * a container from memory while the node is alone (`sole`, ClusterNode.sole),
 * as the SQLite dialect always does: no other node can then write, and this
 * node's own writes pass through here. With other nodes about, every read goes
 * to the database.
 *
 * A write (any method not in READS, so a new method is safe by default) empties
 * the cache as it starts and as it ends, and a lookup that overlapped a write
 * keeps nothing: a record read before a commit is never served after it. A new
 * stretch of being alone starts empty, since other nodes may have written
 * before it.
 */
export function cacheWhileAlone(store: BlobStore, sole: () => number | undefined): BlobStore {
  const records = new RecordCache<BlobRecord | ContainerRecord>(20_000);
  let period: number | undefined;
  let writes = 0;
  const forget = () => {
    writes++;
    records.clear();
  };

  /** The record `read` answers, from memory while alone. */
  function cached<T extends BlobRecord | ContainerRecord>(key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
    const now = sole();
    if (now === undefined) return read();
    if (now !== period) {
      records.clear();
      period = now;
    }
    const hit = records.get(key) as T | undefined;
    if (hit !== undefined) return Promise.resolve(hit);
    const before = writes;
    return read().then((record) => {
      if (record === undefined || writes !== before || sole() !== now) return record;
      return records.set(key, record) as T;
    });
  }

  const getBlob = (account: string, container: string, name: string): Promise<BlobRecord | undefined> =>
    // As of now on every answer: a pending copy completes at its time, not when it was read.
    cached(`blob:${account}/${container}/${name}`, () => store.getBlob(account, container, name)).then((blob) => blob && asOfNow(blob));
  const getContainer = (account: string, container: string): Promise<ContainerRecord | undefined> =>
    cached(`container:${account}/${container}`, () => store.getContainer(account, container));

  // Methods run on the store itself, not on the proxy: what they call inside is theirs.
  const methods = new Map<string, unknown>([
    ['getBlob', getBlob],
    ['getContainer', getContainer],
  ]);
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      let method = methods.get(property);
      if (method === undefined) {
        const bound = (value as (...args: unknown[]) => unknown).bind(target);
        method = READS.has(property)
          ? bound
          : (...args: unknown[]) => {
              forget();
              const result = bound(...args);
              if (result instanceof Promise) return result.finally(forget);
              forget();
              return result;
            };
        methods.set(property, method);
      }
      return method;
    },
  });
}
