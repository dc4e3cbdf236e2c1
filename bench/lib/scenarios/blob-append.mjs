// 4 KiB Append Block to one append blob through the official client, 16 in
// flight: a log many writers share. Every append lands whole at one offset, so
// the server serializes them. The bare server stores nothing and answers every
// PUT with 201: the ceiling the client itself allows.
import { benchContainer } from '../azure.mjs';
import { loopRate } from '../load.mjs';

const CONCURRENCY = 16;
const BLOCK = Buffer.alloc(4 * 1024, 'a');

export default {
  id: 'blob-append',
  title: `4 KiB Append Block to one blob with @azure/storage-blob (${CONCURRENCY} parallel loops)`,
  servers: ['mlspace', 'azurite', 'bare'],
  targets: [
    { row: 'appends', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'appends', of: 'mlspace', vs: 'bare' },
    { row: 'appends', of: 'bare', vs: 'azurite' },
  ],

  async run(servers, settings, log) {
    const appends = {};
    for (const server of Object.values(servers)) {
      const container = await benchContainer(server, 'bench-append');
      const blob = container.getAppendBlobClient('shared.log');
      await blob.create();
      const stores = server.name !== 'bare';
      log(`${server.name}: ${settings.seconds} s of appends after ${settings.warmupSeconds} s warm-up`);
      appends[server.name] = await loopRate(() => blob.appendBlock(BLOCK, BLOCK.length), {
        concurrency: CONCURRENCY,
        seconds: settings.seconds,
        warmupSeconds: settings.warmupSeconds,
      });
      const properties = stores ? await blob.getProperties() : undefined;
      if (properties && properties.contentLength !== properties.blobCommittedBlockCount * BLOCK.length) {
        throw new Error(`${server.name}: ${properties.blobCommittedBlockCount} appends of 4 KiB but ${properties.contentLength} bytes`);
      }
    }
    return [{ id: 'appends', label: '4 KiB Append Block to one blob, official client, concurrency 16', unit: 'ops/s', values: appends }];
  },
};
