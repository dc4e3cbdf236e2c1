/**
 * Staging memory for direct (O_DIRECT) writes, which the kernel takes only
 * from memory aligned to the device's blocks. Node gives no aligned Buffer,
 * but a WebAssembly memory is mapped whole pages at a time, so it starts on a
 * page: it is carved here into slots of `slotBytes` (a multiple of 64 KiB),
 * taken by one write at a time. The memory is reserved at the first take, and
 * stays: its pages, once touched, are reused by every later write.
 */
export class AlignedSlots {
  private free: Buffer[] | undefined;
  private readonly waiting: ((slot: Buffer) => void)[] = [];

  constructor(
    private readonly count: number,
    private readonly slotBytes: number,
  ) {}

  /** A free slot, once one is; throws where the memory cannot be reserved (the caller writes through the page cache). */
  take(): Promise<Buffer> {
    this.free ??= this.reserve();
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(slot: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free!.push(slot);
  }

  private reserve(): Buffer[] {
    const pages = (this.count * this.slotBytes) / WASM_PAGE;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    return Array.from({ length: this.count }, (_, i) => Buffer.from(memory.buffer, i * this.slotBytes, this.slotBytes));
  }
}

const WASM_PAGE = 64 * 1024;
