import type { ContentStore } from '../../bytes/content-store.js';
import type { FileNodeRecord, FileRangeRecord } from '../../db/records.js';
import type { FileDeps } from './deps.js';

// Shared and never written to, so every unwritten gap can be served from it.
const ZEROS = Buffer.alloc(256 * 1024);

export interface FileBytes {
  chunks: AsyncGenerator<Buffer>;
  /** Lets writes unlink the content files read here; call it once the bytes are sent or abandoned. */
  release: () => Promise<void>;
}

/**
 * Bytes [first, last] of a file: its written ranges in order, gaps as zeros.
 * The content files are pinned in the same tick as the lookup that named them,
 * so a Put Range or delete racing with the download cannot unlink them mid-stream.
 */
export function openFileBytes(deps: FileDeps, file: FileNodeRecord, first: number, last: number): FileBytes {
  const ranges = deps.repo.ranges(file.id, first, last);
  const release = deps.pins.pin(ranges.map((range) => range.contentId));
  return { chunks: stitch(deps.content, ranges, first, last), release };
}

/** Bytes [first, last] from `ranges` (in order, overlapping that span), gaps as zeros. The caller pins the content. */
export async function* stitch(content: ContentStore, ranges: readonly FileRangeRecord[], first: number, last: number): AsyncGenerator<Buffer> {
  let position = first;
  for (const range of ranges) {
    const from = Math.max(range.first, first);
    const to = Math.min(range.last, last);
    if (from > position) yield* zeros(from - position);
    yield* content.read(range.contentId, range.contentOffset + (from - range.first), range.contentOffset + (to - range.first));
    position = to + 1;
  }
  if (position <= last) yield* zeros(last - position + 1);
}

function* zeros(count: number): Generator<Buffer> {
  for (let left = count; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
}

/** Bytes [first, last] in one buffer; only for small spans (a range's MD5, at most 4 MiB). */
export async function readFileBytes(deps: FileDeps, file: FileNodeRecord, first: number, last: number): Promise<Buffer> {
  const { chunks, release } = openFileBytes(deps, file, first, last);
  try {
    const parts: Buffer[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    return Buffer.concat(parts);
  } finally {
    await release();
  }
}
