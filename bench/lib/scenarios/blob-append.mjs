// 4 KiB Append Block to one append blob through the official client, 16 in
// flight: a log many writers share. Every append lands whole at one offset, so
// the server serializes them. The bare server stores nothing and answers every
// PUT with 201: the ceiling the client itself allows.
import { benchContainer } from '../azure.mjs';
import { interleavedLoopRates } from '../load.mjs';

const CONCURRENCY = 16;
const BLOCK = Buffer.alloc(4 * 1024, 'a');

export default {
  id: 'blob-append',
  title: `4 KiB Append Block to one blob with @azure/storage-blob (${CONCURRENCY} parallel loops)`,
  servers: ['mlspace', 'azurite', 'bare'],
  // The client and each server on a core of their own (cores.mjs).
  pinned: true,
  targets: [
    { row: 'appends', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'appends', of: 'mlspace', vs: 'bare' },
    { row: 'appends', of: 'bare', vs: 'azurite' },
  ],

  async run(servers, settings, log) {
    const ops = {};
    const blobs = {};
    for (const server of Object.values(servers)) {
      const container = await benchContainer(server, 'bench-append');
      const blob = container.getAppendBlobClient('shared.log');
      await blob.create();
      blobs[server.name] = blob;
      ops[server.name] = () => blob.appendBlock(BLOCK, BLOCK.length);
    }
    log(`${settings.seconds} s of appends on each server, in rounds taken in turn, after ${settings.warmupSeconds} s warm-up each`);
    const appends = await interleavedLoopRates(ops, { concurrency: CONCURRENCY, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds });
    for (const server of Object.values(servers).filter((s) => s.stores)) {
      const properties = await blobs[server.name].getProperties();
      if (properties.contentLength !== properties.blobCommittedBlockCount * BLOCK.length) {
        throw new Error(`${server.name}: ${properties.blobCommittedBlockCount} appends of 4 KiB but ${properties.contentLength} bytes`);
      }
    }
    return [{ id: 'appends', label: '4 KiB Append Block to one blob, official client, concurrency 16', unit: 'ops/s', values: appends }];
  },
};
