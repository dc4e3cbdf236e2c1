import { collectPieces } from '../../bytes/body-pieces.js';
import type { ContentPins } from '../../bytes/content-pins.js';
import type { ContentStore } from '../../bytes/content-store.js';
import type { FileStore } from '../../db/files.js';
import type { StoredRange } from '../../db/records.js';
import type { Logger } from '../http/listener.js';
import { stitch } from '../../bytes/stitch.js';

/** A file with more written ranges than this is compacted after a write. */
const COMPACT_ABOVE = 256;
/** A merged range holds at most what one Put Range may write, so merging stays cheap. */
const MERGE_LIMIT = 4 * 1024 * 1024;

/**
 * Runs of touching ranges that can become one: at least two ranges, at most
 * MERGE_LIMIT bytes. Ranges with a gap between them are never joined, since the
 * gap would then count as written.
 */
export function planMerges(ranges: readonly StoredRange[]): StoredRange[][] {
  const runs: StoredRange[][] = [];
  let run: StoredRange[] = [];
  const flush = () => {
    if (run.length > 1) runs.push(run);
    run = [];
  };
  for (const range of ranges) {
    const previous = run[run.length - 1];
    if (previous && (range.first !== previous.last + 1 || range.last - run[0]!.first + 1 > MERGE_LIMIT)) flush();
    if (range.last - range.first + 1 < MERGE_LIMIT) run.push(range);
    else flush();
  }
  flush();
  return runs;
}

/**
 * Bounds fragmentation: every Put Range adds a content file, so a file written
 * in many small pieces would be read from as many files. After a write leaves
 * a file with too many ranges, touching ones are rewritten, in the background,
 * as one content file each. A write that changes them meanwhile wins: the
 * merge is checked against the ranges as read and dropped if they changed.
 */
export class FileCompactor {
  private readonly running = new Set<number>();
  /** Range count a file had after its last compaction; it is looked at again only once that count doubles. */
  private readonly settled = new Map<number, number>();

  constructor(
    private readonly repo: FileStore,
    private readonly content: ContentStore,
    private readonly pins: ContentPins,
    private readonly logger: Logger,
  ) {}

  /**
   * Called once a write to the file has committed; its answer does not wait for
   * what follows. The file is marked before its ranges are counted, so the
   * writes answered meanwhile start no second look at it.
   */
  afterWrite(fileId: number): void {
    if (this.running.has(fileId)) return;
    this.running.add(fileId);
    this.compactIfFragmented(fileId)
      .catch((error: unknown) => this.logger.error({ fileId, err: error }, 'file compaction failed; the file stays as written'))
      .finally(() => this.running.delete(fileId));
  }

  private async compactIfFragmented(fileId: number): Promise<void> {
    const count = await this.repo.rangeCount(fileId);
    if (count <= Math.max(COMPACT_ABOVE, 2 * (this.settled.get(fileId) ?? 0))) return;
    try {
      await this.compact(fileId);
    } finally {
      this.settled.set(fileId, await this.repo.rangeCount(fileId));
    }
  }

  private async compact(fileId: number): Promise<void> {
    for (const run of planMerges(await this.repo.allRanges(fileId))) {
      const first = run[0]!.first;
      const last = run[run.length - 1]!.last;
      const release = this.pins.pin(run.map((range) => range.contentId));
      let merged;
      try {
        merged = await this.content.writeBuffer(await collectPieces(this.content, stitch(run, first, last)));
      } finally {
        await release();
      }
      const orphans = await this.repo.mergeRanges(fileId, run, { first, last, contentId: merged.id, contentOffset: 0 });
      if (orphans === undefined) await this.content.remove([merged.id]);
      else this.pins.remove(orphans);
    }
  }
}
