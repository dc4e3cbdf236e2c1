// Large-file throughput through the File service with the official client, as
// blob-transfer measures blobs. Azurite has no File service: measured against
// the bare ceiling only.
import { randomBytes } from 'node:crypto';
import { benchShare } from '../azure.mjs';
import { median, timed } from '../load.mjs';

const MiB = 1024 * 1024;
// 4 MiB is the File service's largest Put Range; 4 requests in flight, both ways.
const TRANSFER = { rangeSize: 4 * MiB, concurrency: 4 };
// As in blob-transfer: one transfer is too short for a single sample to be trusted.
const ROUNDS = 3;

export default {
  id: 'file-transfer',
  title: 'Large file upload (uploadData) and download (downloadToBuffer), 4 MiB ranges, concurrency 4',
  servers: ['mlspace', 'bare'],
  // The issue sets no File service target: the share of the ceiling is shown, not judged.
  targets: [
    { row: 'upload', of: 'mlspace', vs: 'bare' },
    { row: 'download', of: 'mlspace', vs: 'bare' },
  ],

  async run(servers, settings, log) {
    // Random, so no server can profit from compressible or repeated content.
    const data = randomBytes(settings.transferBytes);
    const size = `${settings.transferBytes / MiB} MiB`;
    const upload = {};
    const download = {};
    for (const server of Object.values(servers)) {
      // The bare server reads the size it is to serve from the name.
      const file = (await benchShare(server, 'bench-large')).rootDirectoryClient.getFileClient(`large-${data.length}`);
      log(`${server.name}: upload and download ${size}, median of ${ROUNDS}`);
      const up = [];
      const down = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Create File with the full size, then Put Range after Put Range.
        up.push((await timed(() => file.uploadData(data, TRANSFER))).seconds);
        const { seconds, value } = await timed(() => file.downloadToBuffer(0, undefined, TRANSFER));
        const intact = server.stores ? value.equals(data) : value.length === data.length;
        if (!intact) throw new Error(`${server.name} returned different bytes than were uploaded`);
        down.push(seconds);
      }
      upload[server.name] = data.length / 1e6 / median(up);
      download[server.name] = data.length / 1e6 / median(down);
    }
    return [
      { id: 'upload', label: `${size} file upload`, unit: 'MB/s', values: upload },
      { id: 'download', label: `${size} file download`, unit: 'MB/s', values: download },
    ];
  },
};
