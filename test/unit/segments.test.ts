import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ContentPins } from '../../src/bytes/content-pins.js';
import { ContentStore } from '../../src/bytes/content-store.js';
import { Segments } from '../../src/bytes/segments.js';

/** A content store with segments in a new directory, through the page cache unless `direct`. */
async function store(segmentBytes: number, direct = false): Promise<ContentStore> {
  const content = new ContentStore(fs.mkdtempSync(path.join(os.tmpdir(), 'mlspace-segments-')), (pathOf) => new Segments(pathOf, segmentBytes, direct));
  await content.init();
  return content;
}

/** The open flags of this process's descriptor for `file` (Linux's /proc), or undefined when none is open. */
function openFlags(file: string): number | undefined {
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`, 'utf8');
    } catch {
      continue; // the directory listing's own descriptor, closed by now
    }
    if (target === file) return parseInt(/flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
  }
  return undefined;
}

describe('Segments', () => {
  it('append the writes of one turn to one file, sharing one fdatasync, and seal it once full', async () => {
    const content = await store(4096);
    const segments = content.segments!;
    const fdatasync = vi.spyOn(fs, 'fdatasync');
    const sealed = vi.fn();
    segments.onSeal = sealed;

    const writes = await Promise.all(Array.from({ length: 4 }, (_, i) => segments.append([Buffer.alloc(1024, i + 1)], 1024)));
    expect(new Set(writes.map((write) => write.id)).size).toBe(1);
    expect(writes.map((write) => write.offset)).toEqual([0, 1024, 2048, 3072]);
    expect(fdatasync).toHaveBeenCalledTimes(1);
    const file = fs.readFileSync(content.pathOf(writes[0]!.id));
    expect(file.subarray(2048, 3072).equals(Buffer.alloc(1024, 3))).toBe(true);

    // Full: the next append starts another segment.
    const next = await segments.append([Buffer.alloc(512, 9)], 512);
    expect(next.id).not.toBe(writes[0]!.id);
    expect(next.offset).toBe(0);
    expect(sealed).toHaveBeenCalledTimes(1);
    fdatasync.mockRestore();
    for (const write of [...writes, next]) write.settle();
    segments.close();
  });

  it('write the appends of one turn directly, in whole blocks, with one durable write and no fdatasync', async () => {
    const content = await store(1024 * 1024, true);
    const segments = content.segments!;
    const write = vi.spyOn(fs, 'write');
    const fdatasync = vi.spyOn(fs, 'fdatasync');

    const writes = await Promise.all(Array.from({ length: 4 }, (_, i) => segments.append([Buffer.alloc(600, i + 1), Buffer.alloc(400, i + 11)], 1000)));
    expect(new Set(writes.map((w) => w.id)).size).toBe(1);
    expect(writes.map((w) => w.offset)).toEqual([0, 4096, 8192, 12288]);
    expect(write).toHaveBeenCalledTimes(1);
    expect(fdatasync).not.toHaveBeenCalled();
    const file = content.pathOf(writes[0]!.id);
    expect(openFlags(file)! & fs.constants.O_DIRECT).toBe(fs.constants.O_DIRECT);
    expect(openFlags(file)! & fs.constants.O_DSYNC).toBe(fs.constants.O_DSYNC);
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(16384);
    expect(bytes.subarray(8192, 8792).equals(Buffer.alloc(600, 3))).toBe(true);
    expect(bytes.subarray(8792, 9192).equals(Buffer.alloc(400, 13))).toBe(true);
    expect(bytes.subarray(9192, 12288).equals(Buffer.alloc(3096))).toBe(true);
    write.mockRestore();
    fdatasync.mockRestore();
    for (const w of writes) w.settle();
    segments.close();
  });

  it('go through the page cache where the file system refuses O_DIRECT, or a direct write is refused', async () => {
    const einval = () => Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });
    // At open: as a file system without O_DIRECT answers.
    const openSync = fs.openSync;
    const open = vi.spyOn(fs, 'openSync').mockImplementation((file, flags, mode) => {
      if (typeof flags === 'number' && flags & fs.constants.O_DIRECT) throw einval();
      return openSync(file, flags, mode);
    });
    const refusedAtOpen = await store(1024 * 1024, true);
    const first = await Promise.all([refusedAtOpen.segments!.append([Buffer.alloc(1000, 1)], 1000), refusedAtOpen.segments!.append([Buffer.alloc(1000, 2)], 1000)]);
    open.mockRestore();
    expect(first.map((w) => w.offset)).toEqual([0, 1000]);
    expect(openFlags(refusedAtOpen.pathOf(first[0]!.id))! & fs.constants.O_DIRECT).toBe(0);
    expect(fs.readFileSync(refusedAtOpen.pathOf(first[0]!.id)).subarray(1000).equals(Buffer.alloc(1000, 2))).toBe(true);

    // At the write: as misaligned memory would be. The append lands in a new segment, through the page cache.
    const refusedAtWrite = await store(1024 * 1024, true);
    const write = vi.spyOn(fs, 'write').mockImplementationOnce(((...args: unknown[]) => (args.at(-1) as (error: Error) => void)(einval())) as typeof fs.write);
    const second = await refusedAtWrite.segments!.append([Buffer.alloc(1000, 3)], 1000);
    write.mockRestore();
    const file = refusedAtWrite.pathOf(second.id);
    expect(openFlags(file)! & fs.constants.O_DIRECT).toBe(0);
    expect(fs.readFileSync(file).equals(Buffer.alloc(1000, 3))).toBe(true);
    for (const w of [...first, second]) w.settle();
    refusedAtOpen.segments!.close();
    refusedAtWrite.segments!.close();
  });

  it('keep a segment in use until every write to it has settled, and hand on released ones only then', async () => {
    const content = await store(1024);
    const segments = content.segments!;
    const first = await segments.append([Buffer.alloc(1024)], 1024);
    const second = await segments.append([Buffer.alloc(512)], 512); // seals the first
    expect(second.id).not.toBe(first.id);

    // Its last reference went, but the write that put bytes there has not committed yet: it may still name it.
    await content.remove([first.id]);
    expect(segments.inUse(first.id)).toBe(true);
    expect(segments.takeReleased()).toEqual([]);
    first.settle();
    expect(segments.inUse(first.id)).toBe(false);
    expect(segments.takeReleased()).toEqual([first.id]);
    // remove handed the segment on rather than unlinking it: the compactor decides, knowing what names it.
    expect(fs.existsSync(content.pathOf(first.id))).toBe(true);
    second.settle();
    segments.close();
  });

  it('write the next segments over the files of removed ones, in whole blocks, cut to what they hold once sealed', async () => {
    const content = await store(4096);
    const segments = content.segments!;
    const old = await segments.append([Buffer.alloc(8192, 1)], 8192);
    const next = await segments.append([Buffer.alloc(4096, 2)], 4096); // seals the old one
    old.settle();
    expect(await segments.reuse(old.id)).toBe(true);
    expect(fs.existsSync(content.pathOf(old.id))).toBe(false);

    // The segment after `next` takes the old file under a new name; over it, a write of 1000 bytes covers a whole block.
    const over = await segments.append([Buffer.alloc(1000, 3)], 1000);
    expect(over.id).not.toBe(next.id);
    expect(over.offset).toBe(0);
    const file = fs.readFileSync(content.pathOf(over.id));
    expect(file.subarray(0, 1000).equals(Buffer.alloc(1000, 3))).toBe(true);
    expect(file.subarray(1000, 4096).equals(Buffer.alloc(3096))).toBe(true);

    // Sealed and settled, it is cut to the block it holds, not left at the old file's 8 KiB.
    const after = await segments.append([Buffer.alloc(512, 4)], 512);
    expect(after.id).not.toBe(over.id);
    for (const write of [next, over, after]) write.settle();
    const deadline = Date.now() + 5000;
    while (fs.statSync(content.pathOf(over.id)).size !== 4096 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fs.statSync(content.pathOf(over.id)).size).toBe(4096);

    // A few spare files are kept, no more: the caller unlinks the rest.
    const kept = []; // files nothing names, as a removed segment's are
    for (let i = 0; i < 5; i++) kept.push(await segments.reuse((await content.writeBuffer(Buffer.from('x'))).id));
    expect(kept).toEqual([true, true, true, true, false]);
    segments.close();
  });
});

describe('ContentPins', () => {
  it('unlink orphaned content only once the commit that orphaned it is on disk, and never after a failed sync', async () => {
    const content = await store(1024);
    const written = await content.writeBuffer(Buffer.from('orphan'));
    let synced!: () => void;
    const pins = new ContentPins(content, () => 0, () => new Promise<void>((resolve) => (synced = resolve)));
    const removing = pins.removeDecided([written.id]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fs.existsSync(content.pathOf(written.id))).toBe(true);
    synced();
    await removing;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fs.existsSync(content.pathOf(written.id))).toBe(false);

    const kept = await content.writeBuffer(Buffer.from('kept'));
    await new ContentPins(content, () => 0, () => Promise.reject(new Error('EIO'))).removeDecided([kept.id]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fs.existsSync(content.pathOf(kept.id))).toBe(true);
  });
});
