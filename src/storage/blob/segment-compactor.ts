import fsp, { type FileHandle } from 'node:fs/promises';
import type { ContentPins } from '../../bytes/content-pins.js';
import type { ContentStore } from '../../bytes/content-store.js';
import type { Segments } from '../../bytes/segments.js';
import type { OwnedRange, PageMove, SegmentIndex } from '../../db/segment-index.js';
import type { Logger } from '../http/listener.js';

/** Passes copy live pages forward until the sealed segments' dead bytes are at most their live bytes. */
const DEAD_PER_LIVE = 1;
/** A segment at least this much alive is not worth copying: it would free less than it writes. */
const WORTH_COPYING = 0.5;
/** Segments compacted in one pass at most; the next pass goes on from there. */
const PER_PASS = 32;
/** Live regions are copied forward in appends of about this size. */
const COPY_BYTES = 1024 * 1024;
/** A pass at least this often, besides the one each sealed segment starts. */
const PASS_INTERVAL_MS = 60_000;

/** What a look at a sealed segment found: its size (fixed once sealed), its live bytes, and the pages naming them then. */
interface Look {
  size: number;
  live: number;
  pages: number;
}

/**
 * Bounds the space dead regions of segments take (segments.ts). A pass, after
 * each segment sealed and every minute:
 * - removes released segments that nothing names any more (keeping a few
 *   files for the next segments to be written over, Segments.reuse);
 * - while the sealed segments hold more dead bytes than live ones, copies the
 *   live regions of the least alive of them to the active segment, then points
 *   their pages at the copies (a page a write changed meanwhile keeps its old
 *   bytes, and the segment stays until a later pass). The old segment goes once
 *   the last page leaves it.
 * So dead bytes stay below about as many again as live ones, plus the segment
 * being written. The least alive first, and only once the bound is reached:
 * under random overwrites a segment keeps losing pages as it ages, so waiting
 * copies fewer live pages per byte freed. Compacting each segment as soon as
 * it fell below half alive copied about one live page per page written, three
 * times what this copies (README, "How it keeps your data").
 */
export class SegmentCompactor {
  /**
   * The last look at each sealed segment. Its live bytes are estimated from
   * then on from its count of pages, which the content table keeps: reading
   * every page of each segment that lost one, after each seal, was a twentieth
   * of a page write's work. Sealed, a segment only loses live bytes, so the
   * look's figure caps the estimate; a segment is looked at again before it is
   * compacted.
   */
  private readonly looked = new Map<string, Look>();
  /** Segments pages name whose files are gone (lose). */
  private readonly lost = new Set<string>();
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
    const sealed: { id: string; size: number; live: number }[] = [];
    let size = 0;
    let live = 0;
    for (const { id, refs } of await this.index.referencedSegments()) {
      if (this.segments.inUse(id) || this.lost.has(id)) continue;
      const look = this.looked.get(id) ?? (await this.look(id).catch((error: unknown) => this.lose(id, error)));
      if (!look) continue;
      const estimate = Math.min(look.live, (refs * look.live) / Math.max(look.pages, 1));
      sealed.push({ id, size: look.size, live: estimate });
      size += look.size;
      live += estimate;
    }
    sealed.sort((a, b) => a.live / a.size - b.live / b.size);
    let compacted = 0;
    for (const segment of sealed) {
      if (size - live <= live * DEAD_PER_LIVE || compacted === PER_PASS) break;
      const exact = await this.look(segment.id);
      live += exact.live - segment.live;
      if (exact.live >= exact.size * WORTH_COPYING) continue;
      const copied = await this.copyForward(segment.id, exact.regions).then(
        () => true,
        (error: unknown) => this.lose(segment.id, error) ?? false,
      );
      // Copied, its live bytes move to the active segment, which no pass counts, and it goes once its last page has
      // left; lost, it takes no space.
      size -= exact.size;
      live -= exact.live;
      if (copied) compacted++;
    }
    // The segments just emptied go now.
    if (compacted > 0) await this.removeReleased();
  }

  private async removeReleased(): Promise<void> {
    for (const id of this.segments.takeReleased()) {
      if (await this.index.isReferenced(id)) continue;
      this.looked.delete(id);
      this.lost.delete(id);
      if (!(await this.segments.reuse(id))) await this.content.unlink([id]);
    }
  }

  /**
   * A segment pages name whose file is gone (removed by hand, or lost with a
   * disk): reading those pages fails, and nothing here can bring them back,
   * but passes go on compacting the others. Said once in the log.
   */
  private lose(segment: string, error: unknown): undefined {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    this.lost.add(segment);
    this.logger.error({ segment }, 'segment file missing: the page blob pages it held cannot be read; compaction goes on without it');
    return undefined;
  }

  /** Reads which of a sealed segment's bytes pages name, and remembers it. */
  private async look(segment: string): Promise<Look & { regions: Region[] }> {
    const size = this.looked.get(segment)?.size ?? (await fsp.stat(this.content.pathOf(segment))).size;
    const pages = await this.index.pagesIn(segment);
    const regions = liveRegions(pages);
    const look = { size, live: regions.reduce((sum, region) => sum + region.length, 0), pages: pages.length };
    this.looked.set(segment, look);
    return { ...look, regions };
  }

  /** Copies the live regions of a sealed segment forward and points their pages at the copies. */
  private async copyForward(segment: string, regions: readonly Region[]): Promise<void> {
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
