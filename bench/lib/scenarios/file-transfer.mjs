// Large-file throughput through the File service with the official client, as
// blob-transfer measures blobs. Azurite has no File service: measured against
// the bare ceiling only.
import { benchShare } from '../azure.mjs';
import { measureTransfers } from '../load.mjs';

const MiB = 1024 * 1024;
// 4 MiB is the File service's largest Put Range; 4 requests in flight, both ways.
const TRANSFER = { rangeSize: 4 * MiB, concurrency: 4 };

export default {
  id: 'file-transfer',
  title: 'Large file upload (uploadData) and download (downloadToBuffer), 4 MiB ranges, concurrency 4',
  servers: ['mlspace', 'bare'],
  // The issue sets no File service target: the share of the ceiling is shown, not judged.
  targets: [
    { row: 'upload', of: 'mlspace', vs: 'bare' },
    { row: 'download', of: 'mlspace', vs: 'bare' },
  ],

  run(servers, settings, log) {
    return measureTransfers(servers, settings, log, {
      label: 'file',
      async target(server, data) {
        // The bare server reads the size it is to serve from the name.
        const file = (await benchShare(server, 'bench-large')).rootDirectoryClient.getFileClient(`large-${data.length}`);
        return {
          // Create File with the full size, then Put Range after Put Range.
          upload: () => file.uploadData(data, TRANSFER),
          download: () => file.downloadToBuffer(0, undefined, TRANSFER),
        };
      },
    });
  },
};
