import fsp, { type FileHandle } from 'node:fs/promises';
import type { ContentPins } from '../../bytes/content-pins.js';
import type { ContentStore } from '../../bytes/content-store.js';
import type { Segments } from '../../bytes/segments.js';
import type { OwnedRange, PageMove, SegmentIndex } from '../../db/segment-index.js';
import type { Logger } from '../http/listener.js';

/** A segment is compacted once less than this share of its bytes is still named. */
const LIVE_SHARE = 0.5;
/** Segments looked at in one pass; the next pass goes on from there. */
const PER_PASS = 32;
/** Live regions are copied forward in appends of about this size. */
const COPY_BYTES = 1024 * 1024;
/** A pass at least this often, besides the one each sealed segment starts. */
const PASS_INTERVAL_MS = 60_000;

/**
 * Bounds the space dead regions of segments take (segments.ts). A pass, after
 * each segment sealed and every minute:
 * - removes released segments that nothing names any more (keeping a few
 *   files for the next segments to be written over, Segments.reuse);
 * - looks at the next PER_PASS segments something names, and copies the live
 *   regions of each that is mostly dead to the active segment, then points their
 *   pages at the copies (a page a write changed meanwhile keeps its old bytes,
 *   and the segment stays until a later pass). The old segment goes once the
 *   last page leaves it.
 * So dead bytes stay below about as many again as live ones, plus what the
 * passes have not reached yet.
 */
export class SegmentCompactor {
  private cursor = '';
  /**
   * What the last look at a segment found: its size (fixed once sealed), and
   * its live bytes per page. It is looked at again only once its count of pages,
   * at that many bytes each, would be under LIVE_SHARE of it: reading every page
   * of each segment that lost one, after each seal, was a twentieth of a page
   * write's work. (A page trimmed in place is missed until then, which errs
   * towards keeping.)
   */
  private readonly looked = new Map<string, { size: number; bytesPerPage: number }>();
  private running: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly index: SegmentIndex,
    private readonly content: ContentStore,
    private readonly segments: Segments,
    private readonly pins: ContentPins,
    private readonly logger: Logger,
  ) {
    segments.onSeal = () => void this.pass();
    this.timer = setInterval(() => void this.pass(), PASS_INTERVAL_MS).unref();
  }

  /** Runs a pass unless one is running; resolves when the one running ends. */
  pass(): Promise<void> {
    this.running ??= this.compact()
      .catch((error: unknown) => this.logger.error({ err: error }, 'segment compaction failed; the next pass tries again'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.segments.onSeal = undefined;
    await this.running;
  }

  private async compact(): Promise<void> {
    await this.removeReleased();
    const batch = await this.index.segmentsAfter(this.cursor, PER_PASS);
    this.cursor = batch.length < PER_PASS ? '' : batch[batch.length - 1]!.id;
    let compacted = false;
    for (const { id, refs } of batch) {
      const last = this.looked.get(id);
      if (this.segments.inUse(id) || (last && refs * last.bytesPerPage >= last.size * LIVE_SHARE)) continue;
      const size = last?.size ?? (await fsp.stat(this.content.pathOf(id))).size;
      compacted = (await this.compactIfSparse(id, size)) || compacted;
    }
    // The segments just emptied go now.
    if (compacted) await this.removeReleased();
  }

  private async removeReleased(): Promise<void> {
    for (const id of this.segments.takeReleased()) {
      if (await this.index.isReferenced(id)) continue;
      this.looked.delete(id);
      if (!(await this.segments.reuse(id))) await this.content.unlink([id]);
    }
  }

  /** Copies the segment's live regions forward if they are less than LIVE_SHARE of it; true if it did. */
  private async compactIfSparse(segment: string, size: number): Promise<boolean> {
    const pages = await this.index.pagesIn(segment);
    const regions = liveRegions(pages);
    const live = regions.reduce((sum, region) => sum + region.length, 0);
    this.looked.set(segment, { size, bytesPerPage: live / Math.max(pages.length, 1) });
    if (live >= size * LIVE_SHARE) return false;
    const moves: PageMove[] = [];
    const copies: (() => void)[] = [];
    const release = this.pins.pin([segment]);
    try {
      let handle: FileHandle | undefined;
      try {
        // One handle for the whole segment: an open and a close per region were two more trips through the thread pool.
        handle = await this.content.open(segment);
        for (const group of inGroups(regions, COPY_BYTES)) {
          const data = await readRegions(handle, group);
          const { id, offset, settle } = await this.segments.append(data, group.reduce((sum, region) => sum + region.length, 0));
          copies.push(settle);
          let at = offset;
          for (const region of group) {
            for (const page of region.pages) moves.push({ page, to: id, offset: at });
            at += region.length;
          }
        }
      } finally {
        // A read-only handle has nothing to lose on close: a failure there must not keep the segment pinned.
        await handle?.close().catch(() => {});
        await release();
      }
      // ContentPins lets the old bytes go only once the pages' new places are on disk.
      await this.pins.removeDecided(await this.index.movePages(moves));
    } finally {
      for (const settle of copies) settle();
    }
    return true;
  }
}

/** A region of a segment that pages name, and the pages (a page blob's, its snapshots') that name it. */
interface Region {
  offset: number;
  length: number;
  pages: OwnedRange[];
}

/** The distinct regions the pages name; pages that share a region (a blob and its snapshots) share its copy. */
function liveRegions(pages: readonly OwnedRange[]): Region[] {
  const regions = new Map<string, Region>();
  for (const page of pages) {
    const length = page.range.last - page.range.first + 1;
    const key = `${page.range.contentOffset}:${length}`;
    const region = regions.get(key);
    if (region) region.pages.push(page);
    else regions.set(key, { offset: page.range.contentOffset, length, pages: [page] });
  }
  return [...regions.values()].sort((a, b) => a.offset - b.offset);
}

/**
 * The bytes of `regions` (in order), a region each. Nearby regions are read
 * together, dead bytes between them and all, so long as those are no more than
 * what they bring in: at most twice the bytes, but a trip through the thread
 * pool for several regions, where live regions of randomly overwritten pages
 * are rarely adjacent.
 */
async function readRegions(handle: FileHandle, regions: readonly Region[]): Promise<Buffer[]> {
  const data: Buffer[] = [];
  const endOf = (region: Region) => region.offset + region.length;
  for (let start = 0; start < regions.length; ) {
    let end = start + 1;
    while (end < regions.length && regions[end]!.offset - endOf(regions[end - 1]!) <= regions[end]!.length) end++;
    const first = regions[start]!.offset;
    const length = endOf(regions[end - 1]!) - first;
    const run = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(run, 0, length, first);
    if (bytesRead < length) throw new Error(`segment ${first + bytesRead} bytes long where pages name bytes up to ${first + length}`);
    for (let i = start; i < end; i++) data.push(run.subarray(regions[i]!.offset - first, endOf(regions[i]!) - first));
    start = end;
  }
  return data;
}

/** Consecutive runs of regions of about `bytes` each (a region larger than that is a run of its own). */
function inGroups(regions: readonly Region[], bytes: number): Region[][] {
  const groups: Region[][] = [];
  let group: Region[] = [];
  let size = 0;
  for (const region of regions) {
    if (group.length > 0 && size + region.length > bytes) {
      groups.push(group);
      group = [];
      size = 0;
    }
    group.push(region);
    size += region.length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
