// Large-object throughput with the official client's parallel transfers: the
// way datasets and checkpoints move. Upload and download are timed end to end.
import { benchContainer } from '../azure.mjs';
import { measureTransfers } from '../load.mjs';

const MiB = 1024 * 1024;
// blockSize 8 MiB, 4 requests in flight, both ways.
const TRANSFER = { blockSize: 8 * MiB, concurrency: 4 };

export default {
  id: 'blob-transfer',
  title: 'Large blob upload (uploadData) and download (downloadToBuffer), 8 MiB blocks, concurrency 4',
  servers: ['mlspace', 'azurite', 'bare'],
  targets: [
    { row: 'upload', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    { row: 'download', of: 'mlspace', vs: 'azurite', atLeast: 3 },
    // What no server can beat with this client on this machine: shown so a missed download target can be read against it.
    { row: 'download', of: 'bare', vs: 'azurite' },
    // The servers' own cost, which decides the rate wherever the client is not the limit.
    { row: 'upload-cpu', of: 'mlspace', vs: 'azurite' },
    { row: 'download-cpu', of: 'mlspace', vs: 'azurite' },
  ],

  run(servers, settings, log) {
    return measureTransfers(servers, settings, log, {
      label: 'blob',
      async target(server, data) {
        // The bare server reads the size it is to serve from the name.
        const blob = (await benchContainer(server, 'bench-large')).getBlockBlobClient(`large-${data.length}`);
        return {
          // Without maxSingleShotSize the client would send 256 MiB as one Put Blob, not in blocks.
          upload: () => blob.uploadData(data, { ...TRANSFER, maxSingleShotSize: TRANSFER.blockSize }),
          download: () => blob.downloadToBuffer(0, undefined, TRANSFER),
        };
      },
    });
  },
};
