import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { datasync, GroupSync } from './group-sync.js';

/** Segment ids name files as content ids do, and say what they are. */
export const SEGMENT_PREFIX = 'seg-';
/** Just past every segment id in sort order ('.' follows '-'): segment ids are those in [SEGMENT_PREFIX, SEGMENT_END). */
export const SEGMENT_END = 'seg.';

export function isSegment(id: string): boolean {
  return id.startsWith(SEGMENT_PREFIX);
}

/** A segment is sealed, and the next one started, once it holds this much. */
const SEGMENT_BYTES = 32 * 1024 * 1024;

/** A segment file being appended to, or sealed with appends still in flight. */
class Segment {
  size = 0;
  pending = 0;
  /** Set once an fdatasync failed: its later ones could report success for pages the kernel dropped. */
  broken = false;
  readonly flush: GroupSync;

  constructor(
    readonly id: string,
    readonly fd: number,
  ) {
    this.flush = new GroupSync(() => datasync(fd));
  }
}

/**
 * Small page writes appended to shared segment files rather than to a new file
 * each. Creating a file costs an inode, and on an ext4 without a journal (this
 * machine's) the allocator first skips every inode deleted in the last minutes:
 * under page overwrites that was a quarter of a page write's CPU, and unlinking
 * the overwritten file cost more. An append to an open file is one pwrite, and
 * the appends of one turn share one fdatasync (GroupSync).
 *
 * A segment holds one region per write; page_ranges rows name a region by
 * segment id and offset. Nothing names a region until the write that made it
 * has committed, after its fdatasync, so a crash mid-append leaves only bytes
 * nobody names. Regions die as their pages are overwritten or deleted: the
 * SegmentCompactor copies the live regions of mostly dead segments forward, and
 * removes segments nothing names. Segments are for one node alone: a node never
 * knows which segments another is still appending to.
 */
export class Segments {
  private active: Segment | undefined;
  /** Segments with appends in flight: the active one, and sealed ones still finishing. */
  private readonly inFlight = new Map<string, Segment>();
  /** Segments whose last reference went: the compactor removes those nothing names again. */
  private readonly released = new Set<string>();
  /** Called when a segment is sealed: the compactor's cue. */
  onSeal: (() => void) | undefined;

  constructor(
    private readonly pathOf: (id: string) => string,
    private readonly segmentBytes = SEGMENT_BYTES,
  ) {}

  /**
   * Appends `chunks` (`total` bytes, at least one) and resolves, with where they
   * are, once they are on disk. Until `settle` is called (once the write that
   * names them has committed, or given up), the segment counts as in use: the
   * compactor removes no segment an uncommitted write may yet name.
   */
  async append(chunks: Buffer[], total: number): Promise<{ id: string; offset: number; settle: () => void }> {
    const segment = this.writable();
    const offset = segment.size;
    segment.size += total;
    segment.pending++;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      segment.pending--;
      if (segment.pending === 0 && segment !== this.active) this.retire(segment);
    };
    try {
      // Written on the event loop: copying at most a MiB into the page cache takes microseconds (64 KiB: ~25 us
      // here), less than a trip through the thread pool costs, and each turn's fdatasync keeps little dirty.
      writeAt(segment.fd, chunks, total, offset);
      await segment.flush.sync().catch((error: unknown) => {
        segment.broken = true;
        throw error;
      });
      return { id: segment.id, offset, settle };
    } catch (error) {
      settle();
      throw error;
    }
  }

  /** Whether appends to the segment may still be in flight (what they commit will name it). */
  inUse(id: string): boolean {
    return this.inFlight.has(id);
  }

  /** The segment's last reference went; it may be named again by an append in flight. */
  release(id: string): void {
    this.released.add(id);
  }

  /** Released segments no append is in flight to, forgotten here: the compactor checks whether anything names them. */
  takeReleased(): string[] {
    const ready = [...this.released].filter((id) => !this.inUse(id));
    for (const id of ready) this.released.delete(id);
    return ready;
  }

  /** Seals the active segment; appends still in flight close it when they settle. */
  close(): void {
    const active = this.active;
    this.active = undefined;
    if (active && active.pending === 0) this.retire(active);
  }

  private writable(): Segment {
    const current = this.active;
    if (current && (current.size >= this.segmentBytes || current.broken)) {
      this.active = undefined;
      if (current.pending === 0) this.retire(current);
      this.onSeal?.();
    }
    if (!this.active) {
      const id = SEGMENT_PREFIX + randomBytes(16).toString('hex');
      // Created on the event loop: once per segment, and its first fdatasync makes its name durable with it.
      const fd = fs.openSync(this.pathOf(id), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      this.active = new Segment(id, fd);
      this.inFlight.set(id, this.active);
    }
    return this.active;
  }

  private retire(segment: Segment): void {
    this.inFlight.delete(segment.id);
    fs.close(segment.fd, () => {});
  }
}

function writeAt(fd: number, chunks: Buffer[], total: number, position: number): void {
  let written = fs.writevSync(fd, chunks, position);
  if (written < total) {
    const rest = Buffer.concat(chunks, total);
    while (written < total) written += fs.writeSync(fd, rest, written, total - written, position + written);
  }
}
