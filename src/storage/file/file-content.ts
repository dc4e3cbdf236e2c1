import { collectPieces, type BodyPiece } from '../../bytes/body-pieces.js';
import { stitch } from '../../bytes/stitch.js';
import type { FileNodeRecord } from '../../db/records.js';
import type { FileDeps } from './deps.js';

export interface FileBytes {
  pieces: Iterable<BodyPiece>;
  /** Lets writes unlink the content files read here; call it once the bytes are sent or abandoned. */
  release: () => Promise<void>;
}

/**
 * Bytes [first, last] of a file: its written ranges in order, gaps as zeros.
 * The content files are pinned right after the lookup that named them, with
 * nothing but promise continuations between (see ContentPins), so a Put Range
 * or delete racing with the download cannot unlink them mid-stream.
 */
export async function openFileBytes(deps: FileDeps, file: FileNodeRecord, first: number, last: number): Promise<FileBytes> {
  const ranges = await deps.repo.ranges(file.id, first, last);
  const release = deps.pins.pin(ranges.map((range) => range.contentId));
  return { pieces: stitch(ranges, first, last), release };
}

/**
 * Bytes [first, last] of a small span in one buffer, content read through the
 * shared small-content cache (content files never change, so a cached prefix is
 * never stale): the hot path of small file reads opens no file once warm.
 */
export async function readSmallSpan(deps: FileDeps, file: FileNodeRecord, first: number, last: number): Promise<Buffer> {
  const ranges = await deps.repo.ranges(file.id, first, last);
  const release = deps.pins.pin(ranges.map((range) => range.contentId));
  try {
    const span = Buffer.alloc(last - first + 1); // zero-filled: unwritten gaps read as zeros
    for (const range of ranges) {
      const from = Math.max(range.first, first);
      const to = Math.min(range.last, last);
      const start = range.contentOffset + (from - range.first);
      const end = range.contentOffset + (to - range.first) + 1;
      const needed = range.contentOffset + (range.last - range.first + 1);
      if (needed > deps.cache.maxEntrySize) {
        // A small slice of a large content file (a compacted range): read just the slice.
        (await deps.content.readSmall(range.contentId, end - start, start)).copy(span, from - first);
        continue;
      }
      let data = deps.cache.get(range.contentId);
      if (data === undefined || data.length < needed) {
        data = await deps.content.readSmall(range.contentId, needed);
        deps.cache.set(range.contentId, data);
      }
      data.copy(span, from - first, start, end);
    }
    return span;
  } finally {
    await release();
  }
}

/** Bytes [first, last] in one buffer; only for small spans (a range's MD5, at most 4 MiB). */
export async function readFileBytes(deps: FileDeps, file: FileNodeRecord, first: number, last: number): Promise<Buffer> {
  const { pieces, release } = await openFileBytes(deps, file, first, last);
  try {
    return await collectPieces(deps.content, pieces);
  } finally {
    await release();
  }
}
