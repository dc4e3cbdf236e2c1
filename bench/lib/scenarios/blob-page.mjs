// 64 KiB Put Page at random page-aligned offsets of a 1 GiB page blob through
// the official client, 16 in flight: a virtual disk under random writes. The
// bare server stores nothing and answers every PUT with 201: the ceiling the
// client itself allows.
import { randomInt } from 'node:crypto';
import { benchContainer } from '../azure.mjs';
import { interleavedLoopRates } from '../load.mjs';

const CONCURRENCY = 16;
const PAGE_WRITE = 64 * 1024;
const BLOB_SIZE = 1024 * 1024 * 1024;
const DATA = Buffer.alloc(PAGE_WRITE, 'p');

export default {
  id: 'blob-page',
  title: `64 KiB Put Page at random offsets of a 1 GiB page blob with @azure/storage-blob (${CONCURRENCY} parallel loops)`,
  servers: ['mlspace', 'azurite', 'bare'],
  // The client and each server on a core of their own (cores.mjs).
  pinned: true,
  targets: [
    { row: 'pages', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'pages', of: 'mlspace', vs: 'bare' },
    { row: 'pages', of: 'bare', vs: 'azurite' },
  ],

  async run(servers, settings, log) {
    const ops = {};
    const blobs = {};
    for (const server of Object.values(servers)) {
      const container = await benchContainer(server, 'bench-page');
      const blob = container.getPageBlobClient('disk.vhd');
      await blob.create(BLOB_SIZE);
      blobs[server.name] = blob;
      ops[server.name] = () => blob.uploadPages(DATA, randomInt(BLOB_SIZE / PAGE_WRITE) * PAGE_WRITE, PAGE_WRITE);
    }
    log(`${settings.seconds} s of page writes on each server, in rounds taken in turn, after ${settings.warmupSeconds} s warm-up each`);
    const pages = await interleavedLoopRates(ops, { concurrency: CONCURRENCY, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
    for (const server of Object.values(servers).filter((s) => s.stores)) {
      const probe = await blobs[server.name].downloadToBuffer(0, PAGE_WRITE);
      if (!probe.equals(DATA) && !probe.equals(Buffer.alloc(PAGE_WRITE))) throw new Error(`${server.name}: the first 64 KiB are neither written nor zeros`);
    }
    return [{ id: 'pages', label: '64 KiB random Put Page into a 1 GiB page blob, official client, concurrency 16', unit: 'ops/s', values: pages }];
  },
};
